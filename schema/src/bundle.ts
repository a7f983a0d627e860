import { z } from 'zod';
import { ZAudience, ZPriority } from './flow.ts';
import { ZEnvironmentInput } from './environment.ts';
import { ZExperimentNamespace, ZExperimentVariant, refineExperimentVariants } from './experiment-input.ts';
import { ZAttributeName, ZFlowContent, ZSlug } from './flow-content.ts';
import { ZPlacementInput, ZPlacementKey } from './placement.ts';
import { ZSegmentInput } from './segment.ts';
import { storableString } from './text.ts';

export const BUNDLE_FORMAT = 'doorstep.workspace';
export const BUNDLE_VERSION = 1;

/**
 * Bounds on what one import may carry. The API's 1 MB body bounds a bundle sent to it, but not one
 * the CLI reads from a file; these keep an import's queries (a few per item) and its single
 * transaction bounded either way.
 */
export const BUNDLE_LIMITS = { environments: 20, segments: 500, placements: 100, flows: 200, versionsPerFlow: 200, versions: 2000, experiments: 500 } as const;

const ZTimestamp = z.iso.datetime({ offset: true });
const ZName = storableString().trim().min(1).max(120);

export const ZBundleVersion = z.object({ number: z.number().int().min(1), content: ZFlowContent });

/** The version an environment serves, by the environment's key and the version's number. */
export const ZBundleRelease = z.object({ environmentKey: ZSlug, version: z.number().int().min(1) });

export const ZBundleFlow = z
  .object({
    key: ZSlug,
    name: ZName,
    priority: ZPriority,
    placement: ZPlacementKey,
    audience: ZAudience,
    archivedAt: ZTimestamp.nullable(),
    /** Null for a flow without a draft. */
    draft: ZFlowContent.nullable(),
    versions: z.array(ZBundleVersion).max(BUNDLE_LIMITS.versionsPerFlow),
    releases: z.array(ZBundleRelease).max(BUNDLE_LIMITS.environments),
  })
  .superRefine((flow, ctx) => {
    flow.versions.forEach((version, index) => {
      if (index > 0 && version.number <= flow.versions[index - 1].number) {
        ctx.addIssue({ code: 'custom', path: ['versions', index, 'number'], message: 'List versions once each, in ascending order' });
      }
    });
    const numbers = new Set(flow.versions.map((v) => v.number));
    const environments = new Set<string>();
    flow.releases.forEach((release, index) => {
      if (environments.has(release.environmentKey)) {
        ctx.addIssue({ code: 'custom', path: ['releases', index, 'environmentKey'], message: `Environment "${release.environmentKey}" is listed twice` });
      }
      environments.add(release.environmentKey);
      if (!numbers.has(release.version)) ctx.addIssue({ code: 'custom', path: ['releases', index, 'version'], message: `The flow has no version ${release.version}` });
    });
  });

export const EXPERIMENT_STATUSES = ['draft', 'running', 'stopped'] as const;

export const ZBundleExperiment = z
  .object({
    key: ZSlug,
    name: ZName,
    flowKey: ZSlug,
    environmentKey: ZSlug,
    status: z.enum(EXPERIMENT_STATUSES),
    /** The first is the control. */
    variants: z.array(ZExperimentVariant).min(2).max(10),
    coverage: z.number().min(0).max(1),
    seed: storableString().min(1).max(64),
    hashAttribute: ZAttributeName,
    fallbackAttribute: ZAttributeName.nullable(),
    namespace: ZExperimentNamespace.nullable(),
    activationWindowHours: z.number().int().min(1).max(24 * 90).nullable(),
    startedAt: ZTimestamp.nullable(),
    stoppedAt: ZTimestamp.nullable(),
    winnerVariantKey: ZSlug.nullable(),
  })
  .superRefine((experiment, ctx) => {
    refineExperimentVariants(experiment.variants, ctx);
    if (experiment.winnerVariantKey !== null && !experiment.variants.some((v) => v.key === experiment.winnerVariantKey)) {
      ctx.addIssue({ code: 'custom', path: ['winnerVariantKey'], message: `No variant "${experiment.winnerVariantKey}" in this experiment` });
    }
  });

/**
 * A workspace's content as one JSON document: what `exportWorkspace` writes and `importWorkspace`
 * reads. Everything is addressed by key (environments, segments, flows, experiments) and versions by
 * number, never by the ids of the installation it came from; lists are sorted by key, so exporting
 * unchanged content twice gives the same JSON but for `exportedAt`.
 */
export const ZWorkspaceBundle = z
  .object({
    format: z.literal(BUNDLE_FORMAT, { error: `Not a Doorstep workspace bundle: "format" must be "${BUNDLE_FORMAT}"` }),
    version: z.literal(BUNDLE_VERSION, { error: `This installation reads bundles of version ${BUNDLE_VERSION}` }),
    exportedAt: ZTimestamp,
    workspace: z.object({ name: z.string().max(200) }),
    /** The environments releases and experiments name; an import requires them in the target. */
    environments: z.array(ZEnvironmentInput).max(BUNDLE_LIMITS.environments),
    segments: z.array(ZSegmentInput).max(BUNDLE_LIMITS.segments),
    placements: z.array(ZPlacementInput).max(BUNDLE_LIMITS.placements),
    flows: z.array(ZBundleFlow).max(BUNDLE_LIMITS.flows),
    experiments: z.array(ZBundleExperiment).max(BUNDLE_LIMITS.experiments),
  })
  .superRefine((bundle, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const keysOnce = (list: 'environments' | 'segments' | 'placements' | 'flows' | 'experiments', label: string) => {
      const seen = new Set<string>();
      bundle[list].forEach((item, index) => {
        if (seen.has(item.key)) issue([list, index, 'key'], `Duplicate ${label} key "${item.key}"`);
        seen.add(item.key);
      });
      return seen;
    };
    const environments = keysOnce('environments', 'environment');
    const segments = keysOnce('segments', 'segment');
    keysOnce('placements', 'placement');
    keysOnce('flows', 'flow');
    keysOnce('experiments', 'experiment');

    const versions = bundle.flows.reduce((sum, flow) => sum + flow.versions.length, 0);
    if (versions > BUNDLE_LIMITS.versions) issue(['flows'], `A bundle holds at most ${BUNDLE_LIMITS.versions} versions in all (this one has ${versions})`);

    const flowVersions = new Map<string, Set<number>>();
    bundle.flows.forEach((flow, index) => {
      flowVersions.set(flow.key, new Set(flow.versions.map((v) => v.number)));
      const segmentKey = flow.audience.segmentKey;
      if (segmentKey && !segments.has(segmentKey)) issue(['flows', index, 'audience', 'segmentKey'], `No segment "${segmentKey}" in the bundle`);
      flow.releases.forEach((release, r) => {
        if (!environments.has(release.environmentKey)) issue(['flows', index, 'releases', r, 'environmentKey'], `No environment "${release.environmentKey}" in the bundle`);
      });
    });

    const released = new Set(bundle.flows.flatMap((flow) => flow.releases.map((release) => `${flow.key}\n${release.environmentKey}`)));
    const running = new Set<string>();
    bundle.experiments.forEach((experiment, index) => {
      const numbers = flowVersions.get(experiment.flowKey);
      if (!numbers) issue(['experiments', index, 'flowKey'], `No flow "${experiment.flowKey}" in the bundle`);
      if (!environments.has(experiment.environmentKey)) issue(['experiments', index, 'environmentKey'], `No environment "${experiment.environmentKey}" in the bundle`);
      experiment.variants.forEach((variant, v) => {
        if (numbers && !numbers.has(variant.versionNumber)) {
          issue(['experiments', index, 'variants', v, 'versionNumber'], `Flow "${experiment.flowKey}" has no version ${variant.versionNumber} in the bundle`);
        }
      });
      const slot = `${experiment.flowKey}\n${experiment.environmentKey}`;
      if (experiment.status === 'running') {
        if (running.has(slot)) issue(['experiments', index, 'status'], `Another experiment already runs on flow "${experiment.flowKey}" in "${experiment.environmentKey}"`);
        // As when launching one: a running experiment splits the users of a published flow.
        if (numbers && !released.has(slot)) issue(['experiments', index, 'status'], `Flow "${experiment.flowKey}" is not published in "${experiment.environmentKey}", so no experiment can run there`);
        running.add(slot);
      }
    });
  });

export type TWorkspaceBundle = z.output<typeof ZWorkspaceBundle>;
export type TWorkspaceBundleInput = z.input<typeof ZWorkspaceBundle>;
export type TBundleFlow = z.output<typeof ZBundleFlow>;
export type TBundleExperiment = z.output<typeof ZBundleExperiment>;

/** JSON with every object's keys sorted: for comparing stored JSON and for deterministic exports. */
export function canonicalJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(canonicalJson) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonicalJson((value as Record<string, unknown>)[key])])) as T;
  }
  return value;
}

export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonicalJson(a)) === JSON.stringify(canonicalJson(b));
}
