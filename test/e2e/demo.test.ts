import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphQL } from '../support/process.ts';
import { ADMIN, ARTIFACTS, screenshot, SEED_PUBLIC_KEY, SEED_SECRET_KEY, signIn, startStack, type TStack } from '../support/studio.ts';

const ONBOARDING = 'query($u: OnboardingUserInput!) { onboarding(user: $u) { flow { key } } }';

describe('the Lumen demo app with <doorstep-onboarding> in Chromium', { timeout: 180_000 }, () => {
  let stack: TStack;
  beforeAll(async () => { stack = await startStack(); }, 180_000);
  afterAll(async () => { await stack?.stop(); });

  /** A new visitor (a user id of their own) on the demo page; `problems` collects page errors and warnings. */
  const openDemo = async (width: number, before?: (page: Page) => Promise<unknown>) => {
    const userId = `demo-${randomBytes(4).toString('hex')}`;
    const context = await stack.browser.newContext({ viewport: { width, height: width < 500 ? 844 : 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text()); });
    await before?.(page);
    await page.goto(`${stack.demoUrl}/?user=${userId}`);
    return { page, userId, problems };
  };
  const panelOf = (page: Page) => page.getByRole('region', { name: 'Getting started' });
  const announced = (page: Page) => page.locator('doorstep-onboarding:not([placement])').evaluate((element) => element.shadowRoot!.querySelector('[role="status"]')!.textContent);
  const visible = (page: Page, name: string | RegExp) => expect.poll(() => panelOf(page).getByRole('heading', { name }).isVisible(), { timeout: 10_000 }).toBe(true);
  /** What has focus, looking into shadow roots. */
  const focused = (page: Page) => page.evaluate(() => {
    let active = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    const label = active?.getAttribute('aria-label') || ((active as HTMLInputElement).labels?.[0] ?? active)?.textContent?.trim();
    return `${active?.tagName.toLowerCase()} ${label}`;
  });
  /** The viewport, as the visitor sees it: in a full-page capture the fixed panel lands mid-page. */
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  const servedFlow = async (userId: string) => (await postGraphQL(stack.apiUrl, SEED_PUBLIC_KEY, ONBOARDING, { u: { id: userId } })).data.onboarding?.flow.key ?? null;

  /** Welcome, the question that re-routes, then sales-assisted completed by the product's own buttons. */
  const walk = async (page: Page, shots: string) => {
    const welcome = page.getByRole('dialog', { name: 'Welcome to Lumen' });
    await expect.poll(() => welcome.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await welcome.getByText('where your users drop off').isVisible()).toBe(true);
    await shot(page, `${shots}-welcome`);
    await welcome.getByRole('button', { name: 'Start setup' }).click();

    const panel = panelOf(page);
    await visible(page, 'Tell us about you');
    expect(await welcome.isVisible()).toBe(false);
    expect(await panel.getByText('Step 1 of 4').isVisible()).toBe(true);
    expect(await panel.getByRole('radio', { name: 'Product manager' }).isVisible()).toBe(true);
    await shot(page, `${shots}-question`);

    // A product event ticks the checklist item waiting for it, at once.
    await page.getByRole('button', { name: 'Send first event' }).click();
    await expect.poll(() => announced(page)).toContain('Ticked: Install the snippet.');
    expect(await panel.getByRole('listitem').filter({ hasText: 'Install the snippet' }).textContent()).toContain('(done)');
    expect(await panel.getByRole('listitem').filter({ hasText: 'Create a dashboard' }).textContent()).toContain('(to do)');
    // On a phone the checklist sits below the step in the sheet: scrolled to, as a visitor would.
    await panel.getByRole('heading', { name: /Your first ten minutes/ }).scrollIntoViewIfNeeded();
    await shot(page, `${shots}-checklist`);

    const size = panel.getByLabel('How many people work at your company?');
    await size.fill('500');
    await size.press('Tab');
    await visible(page, 'Book your onboarding call');
    await expect.poll(() => announced(page)).toContain('Your answer changed your setup. Welcome to Lumen for teams.');
    expect(await panel.getByText('Step 1 of 3').isVisible()).toBe(true);
    expect(await panel.getByText('This step completes on its own once you do it in the app.').isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Book a demo' }).click();
    await visible(page, 'Connect your data warehouse');
    expect(await panel.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('1');
    await page.getByRole('button', { name: 'Connect warehouse' }).click();
    await visible(page, 'You are all set');
    await expect.poll(() => announced(page)).toContain('You are all set.');
    await shot(page, `${shots}-complete`);
    await panel.getByRole('button', { name: 'Close' }).last().click();
    expect(await panel.isVisible()).toBe(false);
  };

  it('should walk a new user from the welcome to a completed sales-assisted flow, and show the activation in the studio', async () => {
    const { page, userId, problems } = await openDemo(1366);
    await walk(page, 'demo');
    expect(await servedFlow(userId)).toBeNull();
    // Nothing is served any more: a reload shows no onboarding.
    await page.reload();
    await expect.poll(() => page.locator('doorstep-onboarding:not([placement])').evaluate((element: any) => element.controller?.state.status)).toBe('none');
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(problems).toEqual([]);

    const studio = await (await stack.browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    await signIn(studio, stack.studioUrl, ADMIN.email, ADMIN.password);
    await studio.goto(`${stack.studioUrl}/flows/sales-assisted/analytics`);
    expect(await studio.getByTestId('kpi-starts').textContent()).toBe('1');
    expect(await studio.getByTestId('kpi-activation').textContent()).toBe('100.0%');
    expect(await studio.locator('.kpi', { hasText: 'Activated' }).textContent()).toContain('1 users');
    await screenshot(studio, 'demo-analytics');
    await studio.context().close();
    await page.context().close();
  });

  it('should fit a 390 px phone: the welcome and the steps as full-width sheets', async () => {
    const { page, problems } = await openDemo(390);
    const welcome = page.getByRole('dialog', { name: 'Welcome to Lumen' });
    await expect.poll(() => welcome.isVisible(), { timeout: 10_000 }).toBe(true);
    expect((await welcome.boundingBox())!.width).toBe(390);
    await welcome.getByRole('button', { name: 'Start setup' }).click();
    expect((await panelOf(page).boundingBox())!.width).toBe(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.context().close();

    const visitor = await openDemo(390);
    await walk(visitor.page, 'demo-phone');
    expect(await visitor.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect([...problems, ...visitor.problems]).toEqual([]);
    await visitor.page.context().close();
  });

  it('should work with the keyboard alone through the welcome and the question that re-routes', async () => {
    const { page, userId } = await openDemo(1366);
    await expect.poll(() => page.getByRole('dialog', { name: 'Welcome to Lumen' }).isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await focused(page)).toBe('button Start setup');
    // Focus stays in the dialog: after its last control comes its first.
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('button Close');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('button Explore a sample project');
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).toBe('button Close');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Space');

    await visible(page, 'Tell us about you');
    expect(await focused(page)).toBe('h3 Tell us about you');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('input Developer');
    await page.keyboard.press('ArrowDown');
    expect(await focused(page)).toBe('input Product manager');
    expect(await panelOf(page).getByRole('radio', { name: 'Product manager' }).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('input How many people work at your company?');
    await page.keyboard.type('500');
    await page.keyboard.press('Enter');

    await visible(page, 'Book your onboarding call');
    expect(await focused(page)).toBe('h3 Book your onboarding call');
    await expect.poll(() => announced(page)).toContain('Your answer changed your setup.');
    expect(await servedFlow(userId)).toBe('sales-assisted');
    await page.context().close();
  });

  it('should start from attributes alone, in the language asked for', async () => {
    const { page } = await openDemo(1366);
    await expect.poll(() => page.getByRole('dialog', { name: 'Welcome to Lumen' }).isVisible(), { timeout: 10_000 }).toBe(true);
    const userId = `attr-${randomBytes(4).toString('hex')}`;
    await page.evaluate((id) => {
      const { apiUrl, publicKey } = JSON.parse(document.getElementById('demo-config')!.textContent!);
      document.querySelector('doorstep-onboarding:not([placement])')!.remove();
      const element = document.createElement('doorstep-onboarding');
      for (const [name, value] of Object.entries({ 'api-url': apiUrl, 'public-key': publicKey, 'user-id': id, 'user-attributes': '{"plan":"trial"}', locale: 'fr' })) {
        element.setAttribute(name, value);
      }
      document.body.append(element);
    }, userId);
    const welcome = page.getByRole('dialog', { name: 'Bienvenue sur Lumen' });
    await expect.poll(() => welcome.isVisible(), { timeout: 10_000 }).toBe(true);
    await welcome.getByRole('button', { name: 'Commencer' }).click();
    await visible(page, 'Parlez-nous de vous');
    expect(await servedFlow(userId)).toBe('self-serve');
    await page.context().close();
  });

  it('should show the banner and the main onboarding side by side, the banner in place and dismissable', async () => {
    const { page, userId, problems } = await openDemo(1366);
    const banner = page.getByRole('region', { name: "What's new: dashboards can now be shared" });
    const welcome = page.getByRole('dialog', { name: 'Welcome to Lumen' });
    await expect.poll(() => banner.isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => welcome.isVisible(), { timeout: 10_000 }).toBe(true);
    // The bar sits above the page's content, full width, while the welcome has focus.
    const bar = (await banner.boundingBox())!;
    expect(bar.width).toBeGreaterThan(1300);
    expect(bar.y).toBeLessThan((await page.getByRole('heading', { name: 'Welcome to your workspace' }).boundingBox())!.y);
    expect(await focused(page)).toBe('button Start setup');
    await shot(page, 'demo-banner-and-welcome');
    await welcome.getByRole('button', { name: 'Start setup' }).click();
    await visible(page, 'Tell us about you');
    await banner.getByRole('button', { name: 'Close' }).click();
    expect(await banner.isVisible()).toBe(false);
    expect(await panelOf(page).isVisible()).toBe(true);
    const bannerServed = async () => (await postGraphQL(stack.apiUrl, SEED_PUBLIC_KEY, 'query($u: OnboardingUserInput!) { onboarding(user: $u, placement: "banner") { flow { key } } }', { u: { id: userId } })).data.onboarding;
    await expect.poll(bannerServed).toBeNull();
    expect(await servedFlow(userId)).toBe('self-serve');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('should explain in the debug view why a flow was not shown', async () => {
    const context = await stack.browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${stack.demoUrl}/?user=debug-${randomBytes(4).toString('hex')}&doorstep-debug`);
    const debug = page.locator('doorstep-onboarding:not([placement])').getByRole('complementary', { name: 'Doorstep debug' });
    await expect.poll(() => debug.isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => debug.textContent()).toContain('self-serve');
    const text = (await debug.textContent())!;
    expect(text).toContain('Production (production)');
    expect(text).toMatch(/dpk_[\w-]+…/);
    expect(text).not.toContain(SEED_PUBLIC_KEY);
    expect(text).toContain('Sales-assisted onboarding (sales-assisted): the user does not match its audience');
    expect(text).toContain('(whats-new-sharing): shows in another placement (banner)');
    await shot(page, 'demo-debug');
    await context.close();
  });

  it('should close the welcome on Escape, give focus back and dismiss the onboarding for good', async () => {
    let open = () => {};
    const opened = new Promise<void>((resolve) => { open = resolve; });
    // The page's first request waits until a product button has focus, so there is focus to give back.
    const { page, userId } = await openDemo(1366, (p) => p.route('**/graphql', async (route) => { await opened; await route.continue(); }));
    await page.getByRole('button', { name: 'Create dashboard' }).focus();
    open();
    const welcome = page.getByRole('dialog', { name: 'Welcome to Lumen' });
    await expect.poll(() => welcome.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await focused(page)).toBe('button Start setup');
    await page.keyboard.press('Escape');
    expect(await welcome.isVisible()).toBe(false);
    expect(await focused(page)).toBe('button Create dashboard');
    await expect.poll(() => servedFlow(userId)).toBeNull();
    await page.context().close();
  });

  // Last in the file: it runs an experiment on the demo's main flow, and ends it again.
  it('should carry a guest who signs in on at the next step, in the variant the guest saw', async () => {
    const admin = (query: string, variables?: Record<string, unknown>) => postGraphQL(stack.apiUrl, SEED_SECRET_KEY, query, variables);
    // Version 2 names its second step differently, so the variant shows on the page.
    const { draft } = (await admin('{ flow(key: "self-serve") { draft { revision content } } }')).data.flow;
    const steps = draft.content.steps.map((step: { id: string }) => (step.id === 'install-snippet' ? { ...step, title: 'Install the snippet in your app' } : step));
    await admin('mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) { __typename } }', { c: { ...draft.content, steps }, r: draft.revision });
    expect((await admin('mutation { publishFlow(flowKey: "self-serve", environmentKey: "production") { __typename } }')).data.publishFlow.__typename).toBe('FlowRelease');
    const created = await admin(`mutation { createExperiment(input: { key: "guest-signup", name: "Snippet wording", flowKey: "self-serve", environmentKey: "production",
      variants: [{ key: "control", versionNumber: 1, weight: 0.5 }, { key: "wording", versionNumber: 2, weight: 0.5 }] }) { __typename } }`);
    expect(created.data.createExperiment.__typename).toBe('Experiment');
    expect((await admin('mutation { launchExperiment(key: "guest-signup") { __typename } }')).data.launchExperiment.__typename).toBe('Experiment');
    try {
      const context = await stack.browser.newContext({ viewport: { width: 1366, height: 900 } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(stack.demoUrl);
      expect(await page.locator('#who-label').textContent()).toBe('Guest');
      const welcome = page.getByRole('dialog', { name: 'Welcome to Lumen' });
      await expect.poll(() => welcome.isVisible(), { timeout: 10_000 }).toBe(true);
      await welcome.getByRole('button', { name: 'Start setup' }).click();
      await visible(page, 'Tell us about you');
      await panelOf(page).getByRole('radio', { name: 'Product manager' }).check();
      await panelOf(page).getByRole('button', { name: 'Continue' }).click();
      const controller = () => page.locator('doorstep-onboarding:not([placement])').evaluate((element: any) => ({
        userId: element.controller.user.id as string, variant: element.controller.state.onboarding?.variant as string, busy: element.controller.state.busy as boolean,
      }));
      const guest = await controller();
      expect(guest.userId).toMatch(/^guest_[0-9a-f-]{36}$/);
      const nextStep = guest.variant === 'wording' ? 'Install the snippet in your app' : 'Install the tracking snippet';
      await visible(page, nextStep);
      expect(await panelOf(page).getByText('Step 2 of 4').isVisible()).toBe(true);
      await shot(page, 'demo-guest');

      // A user whose own assignment is the other variant: keeping the guest's is the merge's doing.
      let userId = '';
      for (let i = 0; !userId && i < 100; i++) {
        const explained = await postGraphQL(stack.apiUrl, SEED_PUBLIC_KEY, 'query($u: OnboardingUserInput!) { explainOnboarding(user: $u) { variant } }', { u: { id: `signed-up-${i}` } });
        if (explained.data.explainOnboarding.variant !== guest.variant) userId = `signed-up-${i}`;
      }
      await page.getByLabel('User id').fill(userId);
      await page.getByRole('button', { name: 'Sign in' }).click();
      expect(await page.locator('#user-id').textContent()).toBe(userId);
      await expect.poll(controller, { timeout: 10_000 }).toEqual({ userId, variant: guest.variant, busy: false });
      await visible(page, nextStep);
      expect(await panelOf(page).getByText('Step 2 of 4').isVisible()).toBe(true);
      const served = await postGraphQL(stack.apiUrl, SEED_PUBLIC_KEY, 'query($u: OnboardingUserInput!) { onboarding(user: $u) { variant progress { started completedStepIds } } }', { u: { id: userId } });
      expect(served.data.onboarding).toEqual({ variant: guest.variant, progress: { started: true, completedStepIds: ['about-you'] } });

      // Signed in on the next visit too: no second welcome, the same step and variant.
      await page.reload();
      await visible(page, nextStep);
      expect(await page.getByRole('dialog').count()).toBe(0);
      expect((await controller()).userId).toBe(userId);
      await shot(page, 'demo-signed-in');
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await admin('mutation { stopExperiment(key: "guest-signup") { __typename } }');
      await admin('mutation { rollbackFlow(flowKey: "self-serve", environmentKey: "production", version: 1) { __typename } }');
    }
  });
});
