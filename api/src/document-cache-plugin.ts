import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * What the parse cache may hold: as many documents as yoga's own cache, and at most this many
 * characters of them. A parsed document with its locations takes about 100 bytes per character of
 * source (2.5 MB for one of 5,000 tokens), so the character bound is what bounds the memory; the
 * studio's documents come to about 10,000 characters in all.
 */
export const DOCUMENT_CACHE_LIMITS = { documents: 1024, characters: 512_000 } as const;

/** Parsed documents by source, least recently used first, bounded in number and in characters. */
export class DocumentCache {
  private readonly documents = new Map<string, DocumentNode>();
  private held = 0;

  constructor(private readonly limits: { documents: number; characters: number } = DOCUMENT_CACHE_LIMITS) {}

  /** Characters of source the cache holds now. */
  get characters(): number {
    return this.held;
  }

  get size(): number {
    return this.documents.size;
  }

  get(source: string): DocumentNode | undefined {
    const document = this.documents.get(source);
    if (document) {
      this.documents.delete(source);
      this.documents.set(source, document);
    }
    return document;
  }

  set(source: string, document: DocumentNode): void {
    // One document that would push out an eighth of the cache is parsed each time instead.
    if (source.length > this.limits.characters / 8 || this.documents.has(source)) return;
    this.documents.set(source, document);
    this.held += source.length;
    while (this.documents.size > this.limits.documents || this.held > this.limits.characters) {
      const [oldest] = this.documents.keys();
      this.documents.delete(oldest);
      this.held -= oldest.length;
    }
  }
}

/**
 * Replaces yoga's parse and validation cache, which is bounded only in entries (1,024 documents of
 * any size, and every parse error and validation result with them): a few thousand distinct
 * documents of 5,000 tokens, valid or not, held gigabytes. Here parsed documents are bounded by
 * `DocumentCache`, and only a successful validation is remembered (as a mark on its document, which
 * lives as long as the cache holds the document): a document that fails is parsed and refused
 * again, which costs the one who sends it time, not the server memory. The schema and validation
 * rules are the same for every request, so a document once valid stays valid.
 */
export function useDocumentCache(cache: DocumentCache): Plugin {
  const valid = new WeakSet<DocumentNode>();
  return {
    onParse({ params, setParsedDocument }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      const cached = cache.get(source);
      if (cached) {
        setParsedDocument(cached);
        return;
      }
      return ({ result }) => {
        if (result && !(result instanceof Error)) cache.set(source, result as DocumentNode);
      };
    },
    onValidate({ params: { documentAST }, setResult }) {
      if (valid.has(documentAST)) {
        setResult([]);
        return;
      }
      return ({ valid: isValid }) => {
        if (isValid) valid.add(documentAST);
      };
    },
  };
}
