/** Where queued events survive a reload: localStorage in browsers, memory elsewhere. */
export type TQueueStorage = { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void };

export function memoryStorage(): TQueueStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => { items.set(key, value); },
    removeItem: (key) => { items.delete(key); },
  };
}

export function defaultStorage(): TQueueStorage {
  try {
    const storage = globalThis.localStorage;
    if (storage) {
      // Private modes and full quotas throw on write; probe once.
      storage.setItem('doorstep:probe', '1');
      storage.removeItem('doorstep:probe');
      return storage;
    }
  } catch {
    // Fall through to memory: events then survive as long as the page does.
  }
  return memoryStorage();
}
