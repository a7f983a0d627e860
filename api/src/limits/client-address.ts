import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

const MAX_REMEMBERED_PEERS = 10_000;

/**
 * Which peers may say, in X-Forwarded-For, whom they forward for: by default the local machine,
 * where the studio's server (which forwards its visitors' addresses) and a local reverse proxy run.
 * Anyone else's X-Forwarded-For is ignored, so a caller cannot choose its own rate-limit bucket.
 */
export class TrustedProxies {
  private readonly list = new BlockList();

  /** `spec`: comma-separated addresses or CIDR ranges, or `none`. */
  constructor(spec = '127.0.0.0/8,::1') {
    for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p && p !== 'none')) {
      const [address, bits] = part.split('/');
      const type = isIPv6(address) ? 'ipv6' : 'ipv4';
      if (!isIPv4(address) && !isIPv6(address)) throw new Error(`Not an IP address or range: ${part}`);
      if (bits === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(bits), type);
    }
  }

  /** BlockList's check parses the address anew each time; the few peers a server has are remembered. */
  private readonly known = new Map<string, boolean>();

  has(address: string): boolean {
    let trusted = this.known.get(address);
    if (trusted !== undefined) return trusted;
    const type = isIPv6(address) ? 'ipv6' : isIPv4(address) ? 'ipv4' : null;
    trusted = type !== null && this.list.check(address, type);
    if (this.known.size < MAX_REMEMBERED_PEERS) this.known.set(address, trusted);
    return trusted;
  }
}

/** The socket's peer, then through trusted proxies the right-most address none of them is. */
export function clientAddress(req: IncomingMessage, proxies: TrustedProxies): string {
  let address = plain(req.socket.remoteAddress ?? '');
  if (!proxies.has(address)) return address || 'unknown';
  const forwarded = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded ?? '').split(',').map((hop) => plain(hop.trim()));
  for (let i = hops.length - 1; i >= 0 && proxies.has(address); i--) {
    if (!isIPv4(hops[i]) && !isIPv6(hops[i])) break;
    address = hops[i];
  }
  return address || 'unknown';
}

/**
 * The part of an address one subscriber controls: an IPv6 host usually has a whole /64, so limits
 * count per /64 (otherwise one client could take a fresh address per request); IPv4 as it is.
 */
export function addressBucket(address: string): string {
  if (!isIPv6(address)) return address;
  const groups = expandIPv6(address);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address;
}

function plain(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function expandIPv6(address: string): string[] | null {
  const [head, tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  if (right.some((g) => g.includes('.')) || left.some((g) => g.includes('.'))) return null;
  const missing = 8 - left.length - right.length;
  if (address.includes('::') ? missing < 1 : missing !== 0) return null;
  return [...left, ...Array<string>(address.includes('::') ? missing : 0).fill('0'), ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}
