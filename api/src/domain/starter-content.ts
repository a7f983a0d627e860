import { MAIN_PLACEMENT, ZFlowContent, type TFlowContent } from '@doorstep/schema';

/**
 * What a new flow's draft starts from: valid, so it can be previewed and published at once. Outside
 * the main onboarding (banners, tips, announcements) one finished flow should not silence its
 * placement for good, so the next one may follow.
 */
export function starterContent(flowName: string, placement: string = MAIN_PLACEMENT): TFlowContent {
  return ZFlowContent.parse({
    welcome: { title: `Welcome to ${flowName}`, body: 'Let us get you set up in a few quick steps.' },
    steps: [{ id: 'get-started', kind: 'info', title: 'Get started', body: 'Describe the first thing a new user should do.' }],
    activation: { event: 'activated' },
    afterCompletion: placement === MAIN_PLACEMENT ? 'stop' : 'next',
  });
}
