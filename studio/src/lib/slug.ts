/** A key from a name, in the slug form the API accepts: "Trial users!" becomes "trial-users". */
export function slugify(text: string, maxLength = 64): string {
  return text.toLowerCase().trim().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, maxLength);
}
