import type { TMember } from '$lib/server/session';

declare global {
  namespace App {
    interface Locals {
      token: string | undefined;
      member: TMember | null;
    }
    interface Error {
      message: string;
    }
    namespace Superforms {
      /** Forms report success in their message; failures are errors, on a field or on the whole form. */
      type Message = string;
    }
  }
}
export {};
