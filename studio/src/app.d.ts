declare global {
  namespace App {
    interface Locals {
      token: string | undefined;
      member: import('$lib/server/session').TMember | null;
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
