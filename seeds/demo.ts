import { ZFlowContent, type TFlowContentInput } from '@doorstep/schema';

/** Demo workspace: "Lumen", a fictional product-analytics SaaS. */
export const DEMO_WORKSPACE = { slug: 'lumen', name: 'Lumen Analytics' };

type TSeedFlow = { key: string; name: string; priority: number; placement?: string; audience: Record<string, unknown> | null; content: TFlowContentInput };

const selfServe: TSeedFlow = {
  key: 'self-serve',
  name: 'Self-serve onboarding',
  priority: 0,
  audience: null,
  content: {
    defaultLocale: 'en',
    welcome: {
      title: 'Welcome to Lumen',
      body: 'See **where your users drop off** in under ten minutes. We will set up your first dashboard together.',
      primaryCta: { label: 'Start setup', event: 'welcome_accepted' },
      secondaryCta: { label: 'Explore a sample project', url: '/projects/sample' },
    },
    steps: [
      { id: 'about-you', kind: 'questions', title: 'Tell us about you', body: 'Two questions so we can tailor your setup.', questionIds: ['role', 'company-size'] },
      { id: 'install-snippet', kind: 'action', title: 'Install the tracking snippet', body: 'Paste the snippet into your app, or use one of our [integrations](/integrations).', completionEvent: 'first_event_received', cta: { label: 'Copy snippet', event: 'snippet_copied' } },
      { id: 'first-dashboard', kind: 'action', title: 'Build your first dashboard', body: 'Pick a template: signup funnel, retention or feature adoption.', completionEvent: 'dashboard_created' },
      { id: 'invite-team', kind: 'info', title: 'Invite your team', body: 'Dashboards are better together.', skippable: true },
    ],
    questions: [
      {
        id: 'role', prompt: 'What best describes your role?', kind: 'single', attribute: 'role', required: true,
        options: [
          { value: 'developer', label: 'Developer' },
          { value: 'product', label: 'Product manager' },
          { value: 'marketing', label: 'Marketing' },
          { value: 'founder', label: 'Founder' },
        ],
      },
      { id: 'company-size', prompt: 'How many people work at your company?', kind: 'number', attribute: 'companySize', min: 1, max: 1_000_000 },
    ],
    checklist: {
      title: 'Your first ten minutes',
      items: [
        { id: 'snippet', label: 'Install the snippet', completionEvent: 'first_event_received' },
        { id: 'dashboard', label: 'Create a dashboard', completionEvent: 'dashboard_created' },
      ],
    },
    activation: { event: 'dashboard_created', description: 'A user has built a dashboard on their own data' },
    emails: [
      { id: 'nudge', trigger: 'not_activated', delayHours: 24, subject: 'Your Lumen dashboard is one step away', body: 'You are close: [build your first dashboard](/dashboards/new).' },
    ],
    translations: {
      fr: {
        welcome: { title: 'Bienvenue sur Lumen', body: 'Voyez **où vos utilisateurs décrochent** en moins de dix minutes.', primaryCta: { label: 'Commencer' } },
        steps: { 'about-you': { title: 'Parlez-nous de vous' }, 'install-snippet': { title: 'Installez le script de suivi' } },
        questions: { role: { prompt: 'Quel est votre rôle ?', options: { developer: 'Développeur', product: 'Chef de produit' } } },
      },
    },
  },
};

const salesAssisted: TSeedFlow = {
  key: 'sales-assisted',
  name: 'Sales-assisted onboarding',
  priority: 20,
  audience: { companySize: { $gte: 200 } },
  content: {
    welcome: {
      title: 'Welcome to Lumen for teams',
      body: 'Larger teams get a guided rollout. Book a call and we will set up Lumen with you.',
      primaryCta: { label: 'Book a demo', url: 'https://lumen.example/demo', event: 'demo_booked' },
    },
    steps: [
      { id: 'book-demo', kind: 'action', title: 'Book your onboarding call', body: 'Pick a 30-minute slot with a solutions engineer.', completionEvent: 'demo_booked' },
      { id: 'connect-warehouse', kind: 'action', title: 'Connect your data warehouse', body: 'Snowflake, BigQuery and Redshift are supported.', completionEvent: 'warehouse_connected' },
      { id: 'sso', kind: 'info', title: 'Set up single sign-on', body: 'Invite your whole team safely.', skippable: true },
    ],
    activation: { event: 'warehouse_connected' },
  },
};

const developerQuickstart: TSeedFlow = {
  key: 'developer-quickstart',
  name: 'Developer quickstart',
  priority: 10,
  audience: { role: 'developer' },
  content: {
    welcome: {
      title: 'Ship your first event in 5 minutes',
      body: 'Grab an API key, send an event with `curl`, and watch it arrive live.',
      primaryCta: { label: 'Create an API key', url: '/settings/api-keys', event: 'api_key_created' },
    },
    steps: [
      { id: 'create-api-key', kind: 'action', title: 'Create an API key', body: 'Keys are shown once; keep it in your secret manager.', completionEvent: 'api_key_created' },
      { id: 'send-event', kind: 'action', title: 'Send your first event', body: 'Use the SDK or a plain HTTP call.', completionEvent: 'first_event_received' },
      { id: 'query-api', kind: 'action', title: 'Query the results API', body: 'Pull metrics into your own tools.', completionEvent: 'results_queried', skippable: true },
    ],
    activation: { event: 'first_event_received' },
  },
};

/** An announcement in the banner slot above the page, shown next to whichever onboarding is served. */
const whatsNew: TSeedFlow = {
  key: 'whats-new-sharing',
  name: "What's new: shared dashboards",
  // The lowest: any banner an author publishes comes first.
  priority: 0,
  placement: 'banner',
  audience: null,
  content: {
    welcome: {
      title: "What's new: dashboards can now be shared",
      body: 'Send a read-only link to anyone on your team.',
      primaryCta: { label: 'See how', url: '/dashboards', event: 'sharing_explored' },
    },
    steps: [{ id: 'read-announcement', kind: 'info', title: 'Share a dashboard', body: 'Open a dashboard and choose Share.' }],
    activation: { event: 'dashboard_shared' },
    afterCompletion: 'next',
  },
};

/** Every demo flow, validated: a seed that breaks the content model fails loudly at start. */
export function demoFlows() {
  return [selfServe, salesAssisted, developerQuickstart, whatsNew].map((flow) => ({ ...flow, content: ZFlowContent.parse(flow.content) }));
}
