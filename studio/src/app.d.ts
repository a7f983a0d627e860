declare global {
  namespace App {
    interface Locals {
      token: string | undefined;
      member: { id: string; email: string; name: string; role: 'viewer' | 'editor' | 'publisher' | 'admin'; workspace: { name: string } } | null;
    }
    interface Error {
      message: string;
    }
  }
}
export {};
