import { isRecord } from './condition-builder';

/** A readable one-liner for a flow's audience. */
export function describeAudience(flow: { segment: { name: string } | null; audienceCondition: unknown }): string {
  if (flow.segment) return `Segment: ${flow.segment.name}`;
  if (isRecord(flow.audienceCondition) && Object.keys(flow.audienceCondition).length > 0) {
    return `Users where ${JSON.stringify(flow.audienceCondition)}`;
  }
  return 'Everyone';
}

export const canEdit = (role: string) => role !== 'viewer';
export const canPublish = (role: string) => role === 'publisher' || role === 'admin';
