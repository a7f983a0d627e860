import { createHmac, randomBytes } from 'node:crypto';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, postGraphQL, REPO_ROOT, startApiProcess } from '../support/process.ts';
import { ADMIN, SEED_PUBLIC_KEY, SEED_SECRET_KEY, screenshot, signIn, startStack, type TStack } from '../support/studio.ts';

const RUNTIME = `query($user: OnboardingUserInput!) { onboarding(user: $user) { flow { key } version welcome { title } steps { title } questions { prompt } } }`;

describe('studio in Chromium', { timeout: 180_000 }, () => {
  let stack: TStack;
  beforeAll(async () => { stack = await startStack(); }, 180_000);
  afterAll(async () => { await stack?.stop(); });

  const newPage = async (email = ADMIN.email, password = ADMIN.password, width = 1366) => {
    const context = await stack.browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    await signIn(page, stack.studioUrl, email, password);
    return page;
  };
  /** Creates a flow through the studio form and lands in its editor. */
  const createFlow = async (page: Page, name: string) => {
    await page.goto(`${stack.studioUrl}/flows`);
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByRole('button', { name: 'Create flow' }).click();
    await page.waitForURL(/\/flows\/[a-z0-9-]+$/);
    return page.url().split('/').pop()!;
  };
  // Generous: with the whole suite running on two cores, an autosave has taken over 10 s to land.
  const waitSaved = (page: Page) => expect.poll(() => page.getByTestId('save-status').textContent(), { timeout: 20_000 }).toBe('All changes saved');
  const draftOf = async (key: string) =>
    (await postGraphQL(stack.apiUrl, SEED_SECRET_KEY, 'query($k: String!) { flow(key: $k) { draft { content } } }', { k: key })).data.flow.draft.content;
  const targetOnly = async (page: Page, tag: string) => {
    await page.getByText('Name, placement, audience and priority').click();
    await page.getByLabel('Priority (higher wins in its placement)').fill('500');
    await page.getByLabel('Who gets this flow').selectOption('condition');
    await page.getByLabel('Condition (JSON, as in segments)').fill(JSON.stringify({ e2eTag: tag }));
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.getByText('Saved. It applies in every environment right away.').isVisible()).toBe(true);
  };
  const setWelcomeTitle = async (page: Page, title: string) => {
    await page.locator('#welcome-title').fill(title);
    // The stored draft, not the status line, which may still show the previous save when first read.
    const key = new URL(page.url()).pathname.split('/').pop()!;
    await expect.poll(async () => (await draftOf(key)).welcome.title, { timeout: 20_000 }).toBe(title);
    await waitSaved(page);
  };
  /** The editor's preview frame, scrolled into view: the pane beside the editor scrolls on its own. */
  const previewFrame = async (page: Page): Promise<FrameLocator> => {
    await page.getByTestId('preview-frame').scrollIntoViewIfNeeded();
    return page.frameLocator('[data-testid="preview-frame"]');
  };
  /** A full-page shot draws the sticky preview where it stuck: taken from the top, it sits beside the editor's head. */
  const screenshotFromTop = async (page: Page, name: string) => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, name);
  };
  /** Text now, or null while there is no such element: for polling, where waiting for it would outlast the poll. */
  const textOf = async (locator: Locator) => ((await locator.count()) > 0 ? locator.first().textContent() : null);
  /** The welcome dialog <doorstep-onboarding> opens in the preview (Playwright's CSS sees into its shadow root). */
  const welcomeTitle = (preview: FrameLocator) => textOf(preview.locator('dialog[open] #welcome-title'));
  /** The frame restarts a moment after an edit and loads the element: allow it more than a poll's default second. */
  const FRAME = { timeout: 10_000 };

  it('should sign in and list the demo flows with what each environment serves', async () => {
    const page = await newPage();
    await expect.poll(() => page.getByRole('link', { name: 'Self-serve onboarding' }).isVisible()).toBe(true);
    const flows = (await postGraphQL(stack.apiUrl, SEED_SECRET_KEY, '{ flows { key } }')).data.flows;
    expect(flows.length).toBe(4);
    // A header row and one row per flow.
    expect(await page.getByRole('row').count()).toBe(flows.length + 1);
    await screenshot(page, 'flows-list');
    await page.context().close();
  });

  it('should create a flow and save edits to welcome, steps and questions', async () => {
    const page = await newPage();
    const key = await createFlow(page, `Trial ${randomBytes(3).toString('hex')}`);
    await setWelcomeTitle(page, 'Welcome, trial user');
    await page.locator('#welcome-body').fill('Let us **get you started**.');
    await page.locator('#step-0-title').fill('Connect your data');
    await page.getByRole('button', { name: 'Add a step' }).click();
    await page.locator('#step-1-title').fill('Invite a teammate');
    await page.getByRole('button', { name: 'Add a question' }).click();
    await page.locator('#question-0-prompt').fill('What is your role?');
    await page.locator('#question-0-attribute').fill('role');
    await page.locator('#question-0-option-0-label').fill('Developer');
    await page.locator('#question-0-option-0-value').fill('developer');
    await expect.poll(async () => (await draftOf(key)).questions[0]?.options[0]?.value, { timeout: 10_000 }).toBe('developer');
    await waitSaved(page);
    await screenshot(page, 'flow-editor');
    const content = await draftOf(key);
    expect(content.welcome).toMatchObject({ title: 'Welcome, trial user', body: 'Let us **get you started**.' });
    expect(content.steps.map((s: any) => s.title)).toEqual(['Connect your data', 'Invite a teammate']);
    expect(content.questions[0]).toMatchObject({ prompt: 'What is your role?', attribute: 'role', options: [{ value: 'developer', label: 'Developer' }, expect.anything()] });
    await page.context().close();
  });

  it('should show a validation problem next to its field and not save until it is fixed', async () => {
    const page = await newPage();
    const key = await createFlow(page, `Invalid ${randomBytes(3).toString('hex')}`);
    await page.locator('#step-0-title').fill('');
    await expect.poll(() => page.getByTestId('save-status').textContent()).toBe('Fix the highlighted problems to save');
    expect(await page.locator('#step-0-title-error').textContent()).toMatch(/at least 1|too small/i);
    await page.locator('#step-0-title').fill('Fixed');
    await expect.poll(async () => (await draftOf(key)).steps[0].title, { timeout: 10_000 }).toBe('Fixed');
    await page.context().close();
  });

  it('should preview different flows for two sample users', async () => {
    const page = await newPage();
    await page.goto(`${stack.studioUrl}/flows/self-serve`);
    const preview = await previewFrame(page);
    await page.getByLabel('Sample user attributes (JSON)').fill('{}');
    await expect.poll(() => welcomeTitle(preview), FRAME).toBe('Welcome to Lumen');
    await expect.poll(() => page.getByTestId('preview-flow').textContent()).toBe('Showing: Self-serve onboarding');
    await page.getByLabel('Sample user attributes (JSON)').fill('{"companySize": 500}');
    await expect.poll(() => welcomeTitle(preview), FRAME).toBe('Welcome to Lumen for teams');
    // The restarted walk's welcome takes focus in the frame; the author, still typing, keeps theirs.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('preview-attributes');
    await expect.poll(() => page.getByTestId('preview-flow').textContent()).toBe('Showing: Sales-assisted onboarding');
    expect(await page.getByTestId('preview-other-flow').isVisible()).toBe(true);
    await screenshotFromTop(page, 'editor-preview-other-user');
    await page.getByRole('button', { name: 'Desktop' }).click();
    await screenshotFromTop(page, 'editor-preview-desktop');
    await page.context().close();
  });

  it('should play the preview against a flow someone else publishes meanwhile, without a reload', async () => {
    const tag = randomBytes(4).toString('hex');
    const flowKey = `live-${tag}`;
    const secret = (query: string, variables?: Record<string, unknown>) => postGraphQL(stack.apiUrl, SEED_SECRET_KEY, query, variables);
    const page = await newPage();
    await page.goto(`${stack.studioUrl}/flows/self-serve`);
    await previewFrame(page);
    await page.getByLabel('Sample user attributes (JSON)').fill(JSON.stringify({ e2eLive: tag }));
    await expect.poll(() => page.getByTestId('preview-flow').textContent(), FRAME).toBe('Showing: Self-serve onboarding');
    // Another publisher ships a flow for this sample user, through the API: the open editor hears it on production's change stream.
    await secret('mutation($i: CreateFlowInput!) { createFlow(input: $i) { __typename } }', { i: { key: flowKey, name: `Live ${tag}`, priority: 900, audience: { condition: { e2eLive: tag } } } });
    const { draft } = (await secret('query($k: String!) { flow(key: $k) { draft { revision content } } }', { k: flowKey })).data.flow;
    await secret('mutation($k: String!, $r: Int!, $c: JSON!) { saveDraft(flowKey: $k, revision: $r, content: $c) { __typename } }', { k: flowKey, r: draft.revision, c: { ...draft.content, welcome: { ...draft.content.welcome, title: `Live ${tag}` } } });
    expect((await secret('mutation($k: String!) { publishFlow(flowKey: $k, environmentKey: "production") { __typename } }', { k: flowKey })).data.publishFlow.__typename).toBe('FlowRelease');
    await expect.poll(() => page.getByTestId('preview-flow').textContent(), FRAME).toBe(`Showing: Live ${tag}`);
    expect(await page.getByTestId('preview-other-flow').isVisible()).toBe(true);
    await secret('mutation($k: String!) { archiveFlow(key: $k) { __typename } }', { k: flowKey });
    await page.context().close();
  });

  it('should run the drop-in element in the preview: an answer re-routes, the checklist shows, the last step finishes, desktop is 1280 px wide', async () => {
    const page = await newPage();
    await page.goto(`${stack.studioUrl}/flows/self-serve`);
    const preview = await previewFrame(page);
    const stepTitle = () => textOf(preview.locator('#step-title'));
    const checklistTitle = () => textOf(preview.locator('#checklist-title'));
    const walkFirstStep = async (companySize: string) => {
      await expect.poll(() => welcomeTitle(preview), FRAME).toBe('Welcome to Lumen');
      await preview.getByRole('button', { name: 'Start setup' }).click();
      await preview.getByLabel('Product manager').check();
      await preview.getByLabel('How many people work at your company?').fill(companySize);
      await preview.getByRole('button', { name: 'Continue' }).click();
    };

    // A small company stays in self-serve: its checklist shows, and the events the app would send finish it.
    await walkFirstStep('10');
    await expect.poll(stepTitle, FRAME).toBe('Install the tracking snippet');
    expect(await checklistTitle()).toBe('Your first ten minutes 0/2');
    await page.getByRole('button', { name: 'first_event_received' }).click();
    await expect.poll(checklistTitle, FRAME).toBe('Your first ten minutes 1/2');
    expect(await stepTitle()).toBe('Build your first dashboard');
    await screenshotFromTop(page, 'editor-preview-checklist');
    await page.getByRole('button', { name: 'dashboard_created' }).click();
    await expect.poll(stepTitle, FRAME).toBe('You are all set');
    await expect.poll(() => page.getByTestId('preview-flow').textContent()).toBe('Finished: Self-serve onboarding');
    await expect.poll(() => page.getByRole('button', { name: 'dashboard_created' }).count()).toBe(0);

    // Restarted, 500 people re-route the walk to the sales-assisted flow, as the runtime would.
    await page.getByRole('button', { name: 'Restart' }).click();
    await walkFirstStep('500');
    await expect.poll(() => preview.getByText('Your answer changed your setup.', { exact: true }).isVisible(), FRAME).toBe(true);
    expect(await preview.getByText('Welcome to Lumen for teams', { exact: true }).isVisible()).toBe(true);
    expect(await stepTitle()).toBe('Book your onboarding call');
    await expect.poll(() => page.getByTestId('preview-flow').textContent()).toBe('Showing: Sales-assisted onboarding');
    await screenshotFromTop(page, 'editor-preview-phone');

    // Desktop is a 1280 px viewport drawn smaller: the element lays its panel out for a desktop, not as a bottom sheet.
    await page.getByRole('button', { name: 'Desktop' }).click();
    const layout = () => preview.locator('doorstep-onboarding').evaluate((element) => {
      const panel = element.shadowRoot!.querySelector('.panel')!.getBoundingClientRect();
      return { viewport: innerWidth, panelWidth: Math.round(panel.width), panelRight: Math.round(panel.right) };
    });
    await expect.poll(async () => (await layout()).viewport, FRAME).toBe(1280);
    const { panelWidth, panelRight } = await layout();
    expect(panelWidth).toBeLessThan(480);
    expect(panelRight).toBeLessThan(1280);
    expect(await page.getByTestId('preview-scale').textContent()).toMatch(/^Desktop, 1280 px, shown at \d+%$/);
    const frameBox = await page.getByTestId('preview-frame').boundingBox();
    expect(frameBox!.width / frameBox!.height).toBeCloseTo(1280 / 800, 1);
    expect(await stepTitle()).toBe('Book your onboarding call');
    await screenshotFromTop(page, 'editor-preview-desktop-walk');
    await page.context().close();
  });

  it('should publish to production, serve it at runtime, and roll back to the old content', async () => {
    const page = await newPage();
    const tag = randomBytes(4).toString('hex');
    const key = await createFlow(page, `Publish ${tag}`);
    await targetOnly(page, tag);
    await setWelcomeTitle(page, 'First version');
    const runtime = async () => (await postGraphQL(stack.apiUrl, SEED_PUBLIC_KEY, RUNTIME, { user: { id: `u-${tag}`, attributes: { e2eTag: tag } } })).data.onboarding;

    const publish = async () => {
      await page.goto(`${stack.studioUrl}/flows/${key}/versions`);
      await page.getByRole('button', { name: 'Publish draft to Production…' }).click();
      await page.getByRole('button', { name: 'Confirm: publish to Production' }).click();
      await expect.poll(() => page.getByRole('status').first().textContent()).toMatch(/Published version \d to Production/);
    };
    await publish();
    expect(await runtime()).toMatchObject({ flow: { key }, version: 1, welcome: { title: 'First version' } });
    // The user starts version 1, so they are mid-flow when version 2 goes out.
    const started = await postGraphQL(stack.apiUrl, SEED_PUBLIC_KEY, 'mutation($e: [TrackEventInput!]!) { track(events: $e) { accepted } }', {
      e: [{ id: `start-${tag}`, userId: `u-${tag}`, name: 'flow_started', flowKey: key }],
    });
    expect(started.data.track.accepted).toBe(1);

    await page.goto(`${stack.studioUrl}/flows/${key}`);
    await setWelcomeTitle(page, 'Second version');
    await page.goto(`${stack.studioUrl}/flows/${key}/versions`);
    await page.getByRole('button', { name: 'Publish draft to Production…' }).click();
    expect(await page.locator('.review').textContent()).toContain('Second version');
    await page.getByLabel('1 user is in the middle of this flow (1 in version 1)').selectOption('restart');
    await screenshot(page, 'publish-confirmation');
    await page.getByRole('button', { name: 'Confirm: publish to Production' }).click();
    await expect.poll(async () => (await runtime()).welcome.title).toBe('Second version');
    await expect.poll(() => page.locator('table').last().textContent()).toContain('1 user mid-flow restarted');

    page.once('dialog', (dialog) => dialog.accept());
    await page.getByLabel('Roll back to').first().selectOption('1');
    await page.getByRole('button', { name: 'Roll back' }).first().click();
    await expect.poll(() => page.getByTestId('served-production').textContent()).toBe('version 1');
    expect(await runtime()).toMatchObject({ version: 1, welcome: { title: 'First version' } });
    await screenshot(page, 'versions');
    await page.context().close();
  });

  it('should not let a viewer publish, in the studio or through the API', async () => {
    const email = `viewer-${randomBytes(3).toString('hex')}@lumen.example`;
    const invited = await postGraphQL(stack.apiUrl, SEED_SECRET_KEY, `mutation($e: String!) { inviteMember(input: { email: $e, role: viewer }) { ... on Invited { inviteToken } } }`, { e: email });
    const context = await stack.browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${stack.studioUrl}/invite/${invited.data.inviteMember.inviteToken}`);
    await page.getByLabel('Your name').fill('Vera Viewer');
    await page.getByLabel('Choose a password').fill('viewer password 123');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.waitForURL('**/flows');
    await page.goto(`${stack.studioUrl}/flows/self-serve/versions`);
    expect(await page.getByText('Only publishers and admins can publish or roll back.').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: /Publish draft/ }).count()).toBe(0);
    await screenshot(page, 'versions-as-viewer');
    const session = await postGraphQL(stack.apiUrl, null, `mutation($e: String!) { signIn(email: $e, password: "viewer password 123") { ... on SignedIn { token } } }`, { e: email });
    const attempt = await postGraphQL(stack.apiUrl, session.data.signIn.token, 'mutation { publishFlow(flowKey: "self-serve", environmentKey: "production") { __typename ... on Error { code } } }');
    expect(attempt.data.publishFlow).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    await context.close();
  });

  it('should tell the second of two editors that the draft changed, and lose neither edit', async () => {
    const first = await newPage();
    const key = await createFlow(first, `Shared ${randomBytes(3).toString('hex')}`);
    const second = await newPage();
    await second.goto(`${stack.studioUrl}/flows/${key}`);

    await setWelcomeTitle(first, 'Title from the first editor');
    await second.locator('#step-0-title').fill('Step from the second editor');
    await expect.poll(() => second.getByTestId('conflict').isVisible(), { timeout: 10_000 }).toBe(true);
    await screenshot(second, 'conflict');
    expect((await draftOf(key)).welcome.title).toBe('Title from the first editor');

    await second.getByRole('button', { name: 'Load their version (keep a copy of mine)' }).click();
    await expect.poll(() => second.locator('#welcome-title').inputValue()).toBe('Title from the first editor');
    expect(await second.getByTestId('kept-copy').isVisible()).toBe(true);
    await second.getByRole('button', { name: 'Restore my copy' }).click();
    expect(await second.locator('#step-0-title').inputValue()).toBe('Step from the second editor');
    await waitSaved(second);
    const saved = await draftOf(key);
    expect(saved.steps[0].title).toBe('Step from the second editor');
    await first.context().close();
    await second.context().close();
  });

  it('should build a segment visually and test a sample user against it', async () => {
    const page = await newPage();
    await page.goto(`${stack.studioUrl}/segments`);
    const name = `Big teams ${randomBytes(3).toString('hex')}`;
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByRole('button', { name: 'Create segment' }).click();
    await page.waitForURL(/\/segments\/[a-z0-9-]+$/);
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('Attribute', { exact: true }).fill('companySize');
    await page.getByLabel('Operator').selectOption('$gte');
    await page.getByLabel('Value', { exact: true }).fill('200');
    await page.getByLabel('Attributes (JSON)').fill('{"companySize": 250}');
    await expect.poll(() => page.getByTestId('segment-verdict').textContent()).toContain('is in the segment');
    await page.getByLabel('Attributes (JSON)').fill('{"companySize": 20}');
    await expect.poll(() => page.getByTestId('segment-verdict').textContent()).toContain('is not in the segment');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await expect.poll(() => page.getByText('Saved. Flows that target this segment use it right away.').isVisible()).toBe(true);
    await screenshot(page, 'segment-builder');
    await page.getByRole('tab', { name: 'JSON' }).click();
    expect(JSON.parse(await page.locator('#segment-json').inputValue())).toEqual({ $and: [{ companySize: { $gte: 200 } }] });
    await page.context().close();
  });

  it('should create an API key shown once, revoke it, invite a member, and filter the audit log', async () => {
    const page = await newPage();
    await page.goto(`${stack.studioUrl}/settings`);
    const keyName = `Web ${randomBytes(3).toString('hex')}`;
    await page.getByLabel('Name', { exact: true }).nth(1).fill(keyName);
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-key').locator('code').textContent())!.trim();
    expect(secret).toMatch(/^dpk_/);
    expect((await postGraphQL(stack.apiUrl, secret, RUNTIME, { user: { id: 'k' } })).data.onboarding).not.toBeNull();
    await page.reload();
    expect(await page.getByText(secret).count()).toBe(0);
    page.once('dialog', (d) => d.accept());
    await page.getByRole('row', { name: new RegExp(keyName) }).getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(async () => (await postGraphQL(stack.apiUrl, secret, RUNTIME, { user: { id: 'k' } })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The revoke's answer reloads the page's data; typing into the next form before it lands races it.
    await expect.poll(() => page.getByText('Key revoked.').isVisible()).toBe(true);

    await page.getByLabel('Invite by email').fill(`sam-${randomBytes(3).toString('hex')}@lumen.example`);
    await page.getByRole('button', { name: 'Invite' }).click();
    expect(await page.getByTestId('invite-link').locator('code').textContent()).toMatch(/\/invite\/dsi_/);
    await page.getByLabel('Show').selectOption('apiKey.');
    await page.waitForURL(/action=apiKey/);
    const actions = await page.locator('section[aria-labelledby="audit-heading"] tbody td:nth-child(3)').allTextContents();
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(['apiKey.create', 'apiKey.revoke']));
    await screenshot(page, 'settings');
    await page.context().close();
  });

  it('should turn identity verification on, rotate and off, and list and edit the allowed origins of a public key', async () => {
    const page = await newPage();
    await page.goto(`${stack.studioUrl}/settings`);
    /** What the staging runtime does with a call for one user from the new key: "served" or the error code. */
    const runtime = async (key: string, { hash, origin }: { hash?: string; origin?: string } = {}) => {
      const res = await fetch(`${stack.apiUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...(origin ? { origin } : {}) },
        body: JSON.stringify({ query: RUNTIME, variables: { user: { id: 'signed-user', ...(hash ? { hash } : {}) } } }),
      });
      const body = await res.json() as { errors?: { extensions?: { code?: string } }[] };
      return body.errors?.[0]?.extensions?.code ?? 'served';
    };
    const sign = (secret: string) => createHmac('sha256', secret).update('signed-user').digest('hex');
    const acceptDialog = () => new Promise<string>((resolve) => page.once('dialog', (dialog) => { resolve(dialog.message()); void dialog.accept(); }));

    // A public key for staging, whose origin list is checked next to the field before anything is created.
    const keyName = `Site ${randomBytes(3).toString('hex')}`;
    await page.getByLabel('Name', { exact: true }).nth(1).fill(keyName);
    await page.getByLabel('Environment', { exact: true }).selectOption('staging');
    await page.getByLabel('Allowed origins', { exact: true }).fill('https://App.Example.com, https://app.example.com/signup');
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect.poll(() => page.locator('#key-origins-new-error').textContent()).toContain('“https://app.example.com/signup”: Use an origin such as');
    await page.getByLabel('Allowed origins', { exact: true }).fill('https://App.Example.com');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.getByTestId('new-key').locator('code').textContent())!.trim();
    const row = page.getByRole('row', { name: new RegExp(keyName) });
    expect(await row.getByRole('listitem').allTextContents()).toEqual(['https://app.example.com']);
    expect(await runtime(key, { origin: 'https://elsewhere.example' })).toBe('FORBIDDEN');
    expect(await runtime(key, { origin: 'https://app.example.com' })).toBe('served');

    // Editing replaces the list; focus moves into the field and back to the button when it closes.
    await row.getByRole('button', { name: `Edit the origins of ${keyName}` }).click();
    const originsField = page.getByLabel(`Allowed origins of “${keyName}”`);
    expect(await originsField.evaluate((field) => field === document.activeElement)).toBe(true);
    await originsField.fill('https://app.example.com\nftp://files.example.com');
    await page.getByRole('button', { name: 'Save origins' }).click();
    await expect.poll(() => page.locator('#origins-edit-error').textContent()).toContain('“ftp://files.example.com”');
    await screenshot(page, 'settings-origins-error');
    await originsField.fill('https://app.example.com\nhttps://beta.example.com');
    await page.getByRole('button', { name: 'Save origins' }).click();
    await expect.poll(() => page.getByText(`“${keyName}” now works in browsers on https://app.example.com, https://beta.example.com only.`).isVisible()).toBe(true);
    expect(await row.getByRole('listitem').allTextContents()).toEqual(['https://app.example.com', 'https://beta.example.com']);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toMatch(/^edit-origins-/);
    await expect.poll(() => runtime(key, { origin: 'https://beta.example.com' }), { timeout: 10_000 }).toBe('served');

    // Identity verification: the secret shown is the one the runtime checks, and rotating it retires the old one at once.
    expect(await page.getByTestId('identity-staging').textContent()).toBe('off');
    let question = acceptDialog();
    await page.getByRole('button', { name: 'Turn on identity verification in Staging' }).click();
    expect(await question).toContain('Turn on identity verification in Staging?');
    const first = (await page.getByTestId('identity-secret').locator('code.secret').textContent())!.trim();
    expect(first).toMatch(/^dis_/);
    await expect.poll(() => page.getByTestId('identity-staging').textContent()).toBe('on');
    await expect.poll(() => runtime(key), { timeout: 10_000 }).toBe('FORBIDDEN');
    expect(await runtime(key, { hash: sign(first) })).toBe('served');

    question = acceptDialog();
    await page.getByRole('button', { name: 'Rotate secret of Staging' }).click();
    expect(await question).toContain('The old secret stops working at once');
    await expect.poll(async () => (await page.getByTestId('identity-secret').locator('code.secret').textContent())!.trim()).not.toBe(first);
    const second = (await page.getByTestId('identity-secret').locator('code.secret').textContent())!.trim();
    expect(second).toMatch(/^dis_/);
    expect(await page.getByTestId('identity-secret').textContent()).toContain(`createHmac('sha256', secret).update(userId).digest('hex')`);
    await expect.poll(() => runtime(key, { hash: sign(first) }), { timeout: 10_000 }).toBe('FORBIDDEN');
    expect(await runtime(key, { hash: sign(second) })).toBe('served');
    await screenshot(page, 'settings-identity');

    // Trusted documents only: the test's own runtime query is not the client's, so it is refused until turned off.
    expect(await page.getByTestId('trusted-staging').textContent()).toBe('off');
    question = acceptDialog();
    await page.getByRole('button', { name: 'Turn on trusted documents only in Staging' }).click();
    expect(await question).toContain('only for the documents @doorstep/client sends');
    await expect.poll(() => page.getByTestId('trusted-staging').textContent()).toBe('on');
    await expect.poll(() => runtime(key, { hash: sign(second) }), { timeout: 10_000 }).toBe('FORBIDDEN');
    question = acceptDialog();
    await page.getByRole('button', { name: 'Turn off trusted documents only in Staging' }).click();
    await question;
    await expect.poll(() => page.getByTestId('trusted-staging').textContent()).toBe('off');
    await expect.poll(() => runtime(key, { hash: sign(second) }), { timeout: 10_000 }).toBe('served');
    // The secret, the key list and an open origins form, at the width of a phone.
    await row.getByRole('button', { name: `Edit the origins of ${keyName}` }).click();
    await page.setViewportSize({ width: 390, height: 900 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'settings-identity-phone');
    await page.setViewportSize({ width: 1366, height: 900 });

    await page.reload();
    expect(await page.getByText(second).count()).toBe(0);
    question = acceptDialog();
    await page.getByRole('button', { name: 'Turn off identity verification in Staging' }).click();
    expect(await question).toContain('Turn off identity verification in Staging?');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Identity verification is off in Staging' }).isVisible()).toBe(true);
    expect(await page.getByTestId('identity-staging').textContent()).toBe('off');
    await expect.poll(() => runtime(key), { timeout: 10_000 }).toBe('served');
    await page.context().close();
  });

  it('should translate a flow and preview it in that language', async () => {
    const page = await newPage();
    const key = await createFlow(page, `Global ${randomBytes(3).toString('hex')}`);
    await page.getByLabel('Add a language').fill('fr');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator('#tr-fr-welcome-title').fill('Bienvenue !');
    // The stored draft, not the status line: on a loaded machine the status may still show the
    // previous save when it is first read.
    await expect.poll(async () => (await draftOf(key)).translations, { timeout: 10_000 }).toEqual({ fr: { welcome: { title: 'Bienvenue !' } } });
    await page.getByText('Show this flow whatever the audience').click();
    await page.getByLabel('Language', { exact: true }).selectOption('fr');
    const preview = await previewFrame(page);
    await expect.poll(() => welcomeTitle(preview), FRAME).toBe('Bienvenue !');
    await page.context().close();
  });

  it('should warn about personal text nothing provides, and preview it with the sample user’s attributes as text', async () => {
    const page = await newPage();
    await createFlow(page, `Personal ${randomBytes(3).toString('hex')}`);
    await page.getByText('Show this flow whatever the audience').click();
    await page.locator('#welcome-title').fill('Welcome, {{firstName|there}}');
    await expect.poll(() => textOf(page.locator('#welcome-title-warning'))).toBe('Nothing provides {{firstName}}: users will see the fallback “there”.');
    const preview = await previewFrame(page);
    await expect.poll(() => welcomeTitle(preview), FRAME).toBe('Welcome, there');
    await page.getByLabel('Sample user attributes (JSON)').fill('{"firstName": "<b>Anna</b>"}');
    await expect.poll(() => welcomeTitle(preview), FRAME).toBe('Welcome, <b>Anna</b>');
    expect(await preview.locator('dialog[open] #welcome-title b').count()).toBe(0);
    expect(await page.locator('#welcome-title-warning').count()).toBe(0);
    await page.context().close();
  });

  it('should offer to create the first admin on a studio with no members, then sign them in', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'doorstep-first-visit-'));
    const api = await startApiProcess({ DOORSTEP_DATA_DIR: dataDir });
    const port = await freePort();
    const url = `http://localhost:${port}`;
    // The stack's beforeAll built the studio; this serves that build against an API with no members.
    const studio = spawn(process.execPath, ['build/index.js'], {
      cwd: join(REPO_ROOT, 'studio'), stdio: 'ignore',
      env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', ORIGIN: url, DOORSTEP_API_URL: `${api.url}/graphql` },
    });
    try {
      await expect.poll(() => fetch(`${url}/login`).then((r) => r.status, () => 0), { timeout: 20_000 }).toBe(200);
      const context = await stack.browser.newContext();
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForURL('**/setup');
      await page.getByRole('button', { name: 'Create admin and continue' }).click();
      expect(await page.locator('#field-password-error').textContent()).toMatch(/10 characters/);
      await screenshot(page, 'setup');
      await page.getByLabel('Your name').fill('Ada Admin');
      await page.getByLabel('Email').fill('ada@lumen.example');
      await page.getByLabel('Password').fill('first admin password');
      await page.getByRole('button', { name: 'Create admin and continue' }).click();
      await page.waitForURL('**/flows');
      expect(await page.getByRole('link', { name: 'Ada Admin' }).isVisible()).toBe(true);
      await page.goto(`${url}/setup`);
      await page.waitForURL('**/flows');
      await context.close();
    } finally {
      studio.kill('SIGTERM');
      await api.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('should launch an experiment in the studio and show results of users served through the runtime API', async () => {
    const tag = randomBytes(4).toString('hex');
    const flowKey = `exp-${tag}`;
    const secret = (query: string, variables?: Record<string, unknown>) => postGraphQL(stack.apiUrl, SEED_SECRET_KEY, query, variables);
    await secret('mutation($i: CreateFlowInput!) { createFlow(input: $i) { __typename } }', { i: { key: flowKey, name: `Experiment ${tag}`, priority: 600, audience: { condition: { e2eTag: tag } } } });
    for (const title of ['Long welcome', 'Short welcome']) {
      const { draft } = (await secret('query($k: String!) { flow(key: $k) { draft { revision content } } }', { k: flowKey })).data.flow;
      await secret('mutation($k: String!, $r: Int!, $c: JSON!) { saveDraft(flowKey: $k, revision: $r, content: $c) { __typename } }', { k: flowKey, r: draft.revision, c: { ...draft.content, welcome: { ...draft.content.welcome, title } } });
      await secret('mutation($k: String!) { publishFlow(flowKey: $k, environmentKey: "production") { __typename } }', { k: flowKey });
    }

    const page = await newPage();
    await page.goto(`${stack.studioUrl}/experiments`);
    await page.getByLabel('Name', { exact: true }).fill(`Short welcome ${tag}`);
    await page.getByLabel('Flow', { exact: true }).selectOption(flowKey);
    await page.locator('#v0-version').selectOption('1');
    await page.locator('#v1-version').selectOption('2');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    await page.waitForURL(/\/experiments\/[a-z0-9-]+$/);
    await page.getByRole('button', { name: 'Launch experiment' }).click();
    await expect.poll(() => page.getByTestId('experiment-status').textContent()).toBe('running');

    const served: Record<string, number> = {};
    for (let i = 0; i < 60; i++) {
      const userId = `exp-user-${tag}-${i}`;
      const res = await postGraphQL(stack.apiUrl, SEED_PUBLIC_KEY, 'query($u: OnboardingUserInput!) { onboarding(user: $u) { flow { key } variant welcome { title } } }', { u: { id: userId, attributes: { e2eTag: tag } } });
      const { variant, welcome } = res.data.onboarding;
      expect(welcome.title).toBe(variant === 'control' ? 'Long welcome' : 'Short welcome');
      served[variant] = (served[variant] ?? 0) + 1;
      if (i % 3 === 0) {
        await postGraphQL(stack.apiUrl, SEED_PUBLIC_KEY, 'mutation($e: [TrackEventInput!]!) { track(events: $e) { accepted } }', { e: [{ id: `act-${tag}-${i}`, userId, name: 'activated' }] });
      }
    }
    expect(Object.keys(served).sort()).toEqual(['control', 'variant-b']);
    const activations = Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 3 === 0).length;

    await expect.poll(async () => {
      await page.reload();
      return page.getByTestId('results-table').locator('tbody tr td:nth-child(2)').allTextContents();
    }, { timeout: 10_000 }).toEqual([String(served.control), String(served['variant-b'])]);
    const activated = await page.getByTestId('results-table').locator('tbody tr td:nth-child(3)').allTextContents();
    expect(activated.reduce((n, text) => n + Number(text), 0)).toBe(activations);
    expect(await page.getByTestId('results-warning').first().textContent()).toContain('Too few users');
    await screenshot(page, 'experiment-results');

    const starts = Array.from({ length: 5 }, (_, i) => ({ id: `start-${tag}-${i}`, userId: `exp-user-${tag}-${i}`, name: 'flow_started', flowKey }));
    await postGraphQL(stack.apiUrl, SEED_PUBLIC_KEY, 'mutation($e: [TrackEventInput!]!) { track(events: $e) { accepted } }', { e: starts });
    await page.goto(`${stack.studioUrl}/flows/${flowKey}/analytics`);
    expect(await page.getByTestId('kpi-starts').textContent()).toBe('5');
    await screenshot(page, 'flow-analytics');
    await page.context().close();
  });

  it('should show who gets what in each placement, in order, and save a placement\'s frequency caps', async () => {
    const page = await newPage();
    await page.goto(`${stack.studioUrl}/placements`);
    const main = page.getByRole('region', { name: 'main' });
    const order = await main.locator('tbody tr td:nth-child(2)').allTextContents();
    const flows = (await postGraphQL(stack.apiUrl, SEED_SECRET_KEY, '{ flows { name placement } }')).data.flows as Array<{ name: string; placement: string }>;
    expect(order).toEqual(flows.filter((f) => f.placement === 'main').map((f) => f.name));
    try {
      await main.getByText('Frequency caps: no caps').click();
      await main.getByLabel('New flows at most').fill('2');
      await main.getByLabel('Quiet after a dismissal (hours)').fill('12');
      await main.getByRole('button', { name: 'Save caps' }).click();
      await expect.poll(() => main.getByText('Saved. The caps apply in every environment right away.').isVisible()).toBe(true);
      const saved = (await postGraphQL(stack.apiUrl, SEED_SECRET_KEY, '{ placements { key maxShows windowHours cooloffHours } }')).data.placements;
      expect(saved).toContainEqual({ key: 'main', maxShows: 2, windowHours: 24, cooloffHours: 12 });
      await screenshot(page, 'placements');
    } finally {
      // Other tests share the demo workspace: caps on main would hold back their flows.
      await postGraphQL(stack.apiUrl, SEED_SECRET_KEY, 'mutation { deletePlacement(key: "main") { __typename } }');
    }
    await page.context().close();
  });

  it('should change a member\'s password, sign out and sign in with the new one', async () => {
    const email = `pat-${randomBytes(3).toString('hex')}@lumen.example`;
    const invite = 'mutation($i: InviteMemberInput!) { inviteMember(input: $i) { ... on Invited { inviteToken } } }';
    const { inviteToken } = (await postGraphQL(stack.apiUrl, SEED_SECRET_KEY, invite, { i: { email, role: 'viewer' } })).data.inviteMember;
    const accept = 'mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { __typename } }';
    expect((await postGraphQL(stack.apiUrl, null, accept, { i: { token: inviteToken, name: 'Pat', password: 'first password 1' } })).data.acceptInvitation.__typename).toBe('SignedIn');
    const page = await newPage(email, 'first password 1', 390);
    await page.getByRole('link', { name: 'Pat', exact: true }).click();
    await page.waitForURL('**/account');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.getByLabel('Current password').fill('first password 1');
    await page.getByLabel('New password').fill('second password 2');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Password changed' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('**/login');
    await signIn(page, stack.studioUrl, email, 'second password 2');
    await page.context().close();
  });

  it('should fit the editor and every main page in the width of a phone', async () => {
    const page = await newPage(ADMIN.email, ADMIN.password, 390);
    await page.goto(`${stack.studioUrl}/flows/self-serve`);
    const box = await page.locator('#welcome-title').boundingBox();
    expect(box!.width).toBeLessThan(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'editor-phone');
    for (const path of ['/flows', '/flows/self-serve/versions', '/flows/self-serve/analytics', '/placements', '/segments', '/experiments', '/account', '/settings']) {
      await page.goto(`${stack.studioUrl}${path}`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), `${path} fits a phone`).toBeLessThanOrEqual(390);
    }
    await screenshot(page, 'settings-phone');
    await page.context().close();
  });
  /** The studio's security headers on one response; `framedBy` is who may frame it. */
  const expectSecurityHeaders = (headers: Record<string, string>, framedBy: "'none'" | "'self'") => {
    const policy = headers['content-security-policy'];
    expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    expect(policy).toContain("object-src 'none'");
    expect(policy).toContain(`frame-ancestors ${framedBy}`);
    expect(headers['x-frame-options']).toBe(framedBy === "'self'" ? 'SAMEORIGIN' : 'DENY');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('same-origin');
  };

  it('should send a script policy with a nonce and forbid framing and sniffing on its pages', async () => {
    const login = await fetch(`${stack.studioUrl}/login`);
    expectSecurityHeaders(Object.fromEntries(login.headers), "'none'");
    const page = await newPage();
    for (const path of ['/flows', '/flows/self-serve', '/segments', '/settings']) {
      const response = await page.goto(`${stack.studioUrl}${path}`);
      expectSecurityHeaders(response!.headers(), "'none'");
    }
    await page.context().close();
  });

  it('should let the studio frame its own editor preview, and nobody else', async () => {
    const page = await newPage();
    const response = await page.goto(`${stack.studioUrl}/preview-frame`);
    expectSecurityHeaders(response!.headers(), "'self'");
    await page.context().close();
  });

  it('should run sign-in, the editor with its preview and every main page without a Content-Security-Policy violation', async () => {
    const context = await stack.browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    const violations: string[] = [];
    // Chromium reports each refusal on the console, from the page and from its frames.
    page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
    await signIn(page, stack.studioUrl, ADMIN.email, ADMIN.password);
    await page.goto(`${stack.studioUrl}/flows/self-serve`);
    await previewFrame(page);
    await expect.poll(() => textOf(page.getByTestId('preview-flow')), FRAME).toMatch(/^Showing: /);
    for (const path of ['/flows/self-serve/versions', '/flows/self-serve/analytics', '/placements', '/segments', '/experiments', '/settings']) {
      await page.goto(`${stack.studioUrl}${path}`);
      await page.waitForLoadState('networkidle');
    }
    expect(violations).toEqual([]);
    await context.close();
  });
});
