// Lumen's page script: one Doorstep client for the whole page, shared by the product's own events
// and by <doorstep-onboarding>, so a product event and the onboarding's refetch go through one queue.
import { createDoorstep, type TUser } from '../../sdk/src/index.ts';
import '../../sdk/src/element.ts';

/** Injected by demo/server.mjs. */
type TDemoConfig = { apiUrl: string; publicKey: string };

const GUEST_KEY = 'lumen-demo:user';
const config = JSON.parse(document.getElementById('demo-config')!.textContent!) as TDemoConfig;
const toast = document.getElementById('toast')!;
let toastTimer: ReturnType<typeof setTimeout> | undefined;

function notify(message: string): void {
  toast.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.textContent = ''; }, 4000);
}

/** A guest id kept across visits; getRandomValues works on plain-http hosts, where randomUUID does not exist. */
function guestId(): string {
  const known = localStorage.getItem(GUEST_KEY);
  if (known) return known;
  const id = `guest-${Array.from(crypto.getRandomValues(new Uint8Array(5)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  localStorage.setItem(GUEST_KEY, id);
  return id;
}

/** ?user=ID&attributes=JSON opens the page as that user (the studio links here); a guest otherwise. */
function userFromLocation(): TUser {
  const params = new URLSearchParams(location.search);
  let attributes: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(params.get('attributes') ?? '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) attributes = parsed as Record<string, unknown>;
    else notify('attributes must be a JSON object; ignored');
  } catch {
    notify('attributes is not JSON; ignored');
  }
  return { id: params.get('user') || guestId(), attributes };
}

const user = userFromLocation();
const client = createDoorstep({ apiUrl: config.apiUrl, publicKey: config.publicKey, onProblem: (problem) => console.warn('[doorstep]', problem.message) });
const onboarding = document.createElement('doorstep-onboarding');
onboarding.client = client;
onboarding.user = user;
// Lumen has no pages behind the onboarding's links; a single-page app would route here instead.
onboarding.addEventListener('doorstep-navigate', (event) => {
  event.preventDefault();
  notify(`Lumen would open ${(event as CustomEvent<{ url: string }>).detail.url}`);
});
document.body.append(onboarding);

document.getElementById('user-id')!.textContent = user.id;
document.getElementById('new-user')!.addEventListener('click', () => {
  localStorage.removeItem(GUEST_KEY);
  location.assign(location.pathname);
});
for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a:not([aria-current])')) {
  link.addEventListener('click', (event) => {
    event.preventDefault();
    notify(`${link.textContent} is not part of the demo`);
  });
}

const counters: Record<string, string> = { first_event_received: 'kpi-events', dashboard_created: 'kpi-dashboards', warehouse_connected: 'kpi-sources' };
for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-event]')) {
  button.addEventListener('click', async () => {
    const name = button.dataset.event!;
    client.track(user, { name });
    button.dataset.done = '';
    const counter = counters[name] && document.getElementById(counters[name]);
    if (counter) counter.textContent = String(Number(counter.textContent) + 1);
    const entry = document.createElement('li');
    entry.append(`${new Date().toLocaleTimeString()} · `, Object.assign(document.createElement('code'), { textContent: name }));
    document.getElementById('activity')!.prepend(entry);
    document.getElementById('activity-empty')!.hidden = true;
    // Sends the event now and refetches, so the step or checklist item it completes ticks at once.
    await onboarding.refresh();
  });
}

// The banner slot in the page shares the client and the user; its links are Lumen's too.
const banner = document.getElementById('banner') as HTMLElementTagNameMap['doorstep-onboarding'];
banner.client = client;
banner.user = user;
banner.addEventListener('doorstep-navigate', (event) => {
  event.preventDefault();
  notify(`Lumen would open ${(event as CustomEvent<{ url: string }>).detail.url}`);
});
