// Lumen's page script: one Doorstep client for the whole page, shared by the product's own events
// and by <doorstep-onboarding>, so a product event and the onboarding's refetch go through one queue.
import { createDoorstep, type TUser } from '../../sdk/src/index.ts';
import '../../sdk/src/element.ts';

/** Injected by demo/server.mjs. */
type TDemoConfig = { apiUrl: string; publicKey: string };

/** The user a fake sign-in picked; a guest (the client's guest id) otherwise. */
const SIGNED_IN_KEY = 'lumen-demo:user';
const config = JSON.parse(document.getElementById('demo-config')!.textContent!) as TDemoConfig;
const toast = document.getElementById('toast')!;
let toastTimer: ReturnType<typeof setTimeout> | undefined;

function notify(message: string): void {
  toast.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.textContent = ''; }, 4000);
}

const client = createDoorstep({ apiUrl: config.apiUrl, publicKey: config.publicKey, onProblem: (problem) => console.warn('[doorstep]', problem.message) });

/** ?user=ID&attributes=JSON opens the page as that user (the studio links here); the signed-in user or a guest otherwise. */
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
  return { id: params.get('user') || localStorage.getItem(SIGNED_IN_KEY) || client.guestId(), attributes };
}

let user = userFromLocation();
const onboarding = document.createElement('doorstep-onboarding');
onboarding.client = client;
onboarding.user = user;
// Lumen has no pages behind the onboarding's links; a single-page app would route here instead.
onboarding.addEventListener('doorstep-navigate', (event) => {
  event.preventDefault();
  notify(`Lumen would open ${(event as CustomEvent<{ url: string }>).detail.url}`);
});
document.body.append(onboarding);

const signIn = document.getElementById('sign-in') as HTMLFormElement;
const signInUser = document.getElementById('sign-in-user') as HTMLInputElement;
function showWho(): void {
  const guest = user.id.startsWith('guest_');
  document.getElementById('who-label')!.textContent = guest ? 'Guest' : 'Signed in as';
  document.getElementById('user-id')!.textContent = guest ? '' : user.id;
  document.getElementById('new-user')!.textContent = guest ? 'New guest' : 'Sign out';
  signIn.hidden = !guest;
}
showWho();
signInUser.value = `lumen-${Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
// A fake sign-in: Lumen has no accounts, so any id will do. Setting the element's user merges the
// guest's onboarding into that user (identify) and the walk carries on where the guest was.
signIn.addEventListener('submit', (event) => {
  event.preventDefault();
  const id = signInUser.value.trim();
  if (!id || id.startsWith('guest_')) return;
  localStorage.setItem(SIGNED_IN_KEY, id);
  user = { id, attributes: user.attributes };
  onboarding.user = user;
  showWho();
  notify(`Signed in as ${id}`);
});
document.getElementById('new-user')!.addEventListener('click', () => {
  // Starts over: forgets the signed-in user and the guest id (the client keeps it under doorstep:guest:…).
  localStorage.removeItem(SIGNED_IN_KEY);
  for (const key of Object.keys(localStorage)) if (key.startsWith('doorstep:guest:')) localStorage.removeItem(key);
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
