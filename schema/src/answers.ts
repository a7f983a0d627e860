import type { TAttributes } from './condition.ts';
import type { TQuestion } from './flow-content.ts';

/** Checks an answer against the question it answers; returns the problem, or null. */
export function answerProblem(question: TQuestion, value: unknown): string | null {
  const allowed = new Set(question.options.map((o) => o.value));
  const inRange = (n: number) => (question.min === undefined || n >= question.min) && (question.max === undefined || n <= question.max);
  switch (question.kind) {
    case 'single':
      return typeof value === 'string' && allowed.has(value) ? null : `Choose one of: ${[...allowed].join(', ')}`;
    case 'multi':
      return Array.isArray(value) && value.every((v) => typeof v === 'string' && allowed.has(v)) && new Set(value).size === value.length
        ? null
        : `Choose distinct values among: ${[...allowed].join(', ')}`;
    case 'text':
      return typeof value === 'string' && value.length <= 1000 ? null : 'Answer with text of at most 1000 characters';
    case 'number':
    case 'scale':
      return typeof value === 'number' && Number.isFinite(value) && inRange(value)
        ? null
        : `Answer with a number${question.min !== undefined ? ` from ${question.min}` : ''}${question.max !== undefined ? ` up to ${question.max}` : ''}`;
  }
}

/** Sets `a.b.c` in a copy of the attributes, creating objects on the way. */
export function withAttribute(attributes: TAttributes, path: string, value: unknown): TAttributes {
  const [head, ...rest] = path.split('.');
  if (rest.length === 0) return { ...attributes, [head]: value };
  const child = attributes[head];
  const childObject = child !== null && typeof child === 'object' && !Array.isArray(child) ? (child as TAttributes) : {};
  return { ...attributes, [head]: withAttribute(childObject, rest.join('.'), value) };
}
