/**
 * The read path's rendered forms. A GET or LIST renders a stored resource (its type's render hook, the version's
 * view) and serialises it; both depend only on the stored document, the api-version and the origin called. So the
 * JSON text of each (api-version, origin) is kept beside the stored text it was made from, and is valid for as long
 * as the store returns that same text: a write by this process or any other sharing the store changes the text
 * (every write gives a new ETag, and the text holds it), and the next read renders again. Nothing is invalidated
 * by hand, so no writer can be missed.
 *
 * A store that can tell when anything at all may have changed (`dataVersion`: SQLite's own counters) spares the reads
 * too: a form, or a whole LIST page, checked at one version is served without reading the rows again for as long as
 * the version stays the same.
 */

/** Resources whose rendered forms are kept; beyond, the least recently read is dropped. */
export const RENDER_CACHE_RESOURCES = 5_000;
/** Rendered forms kept per resource (one per api-version and origin asked for); beyond, all are dropped. */
export const RENDER_CACHE_FORMS = 8;

/** LIST pages kept whole (about 80 KB each for 100 endpoints), valid while the store's data version stays the same. */
export const RENDER_CACHE_PAGES = 32;

/** A reply body that is JSON text already: sent as it is, never serialised again. */
export class JsonText {
  constructor(readonly text: string) {}
}

interface Entry {
  /** The stored document's JSON text the forms were rendered from. */
  text: string;
  etag: string;
  /** The store's data version at which `text` was last seen current. */
  version?: string;
  /** `${apiVersion} ${origin}` → the rendered document's JSON text. */
  forms: Map<string, string>;
}

export class RenderCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pages = new Map<string, { version: string; json: string }>();

  constructor(
    private readonly maxResources = RENDER_CACHE_RESOURCES,
    private readonly maxForms = RENDER_CACHE_FORMS,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The form of `key` for `form` when its text was seen current at the store's data `version` (nothing read). */
  current(key: string, version: string | undefined, form: string): { json: string; etag: string } | undefined {
    if (version === undefined) return undefined;
    const entry = this.entries.get(key);
    return entry && entry.version === version ? this.found(key, entry, form) : undefined;
  }

  /** The form of `key` rendered from exactly `text` for `form`, if kept; `text` was read at `version` or later. */
  form(
    key: string,
    text: string,
    form: string,
    version: string | undefined,
  ): { json: string; etag: string } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.text !== text) {
      this.entries.delete(key);
      return undefined;
    }
    entry.version = version;
    return this.found(key, entry, form);
  }

  private found(key: string, entry: Entry, form: string): { json: string; etag: string } | undefined {
    const json = entry.forms.get(form);
    if (json === undefined) return undefined;
    // Most recently read last: the oldest is first in the Map's order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { json, etag: entry.etag };
  }

  /** Keeps the form of `key` rendered from `text` (read at `version` or later). */
  put(key: string, text: string, etag: string, form: string, json: string, version: string | undefined): void {
    let entry = this.entries.get(key);
    if (!entry || entry.text !== text) {
      entry = { text, etag, forms: new Map() };
      this.entries.delete(key);
      if (this.entries.size >= this.maxResources) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, entry);
    }
    entry.version = version;
    if (entry.forms.size >= this.maxForms) entry.forms.clear();
    entry.forms.set(form, json);
  }

  /** A whole LIST page's text, when it was made at the store's data `version`. */
  page(page: string, version: string | undefined): string | undefined {
    if (version === undefined) return undefined;
    const kept = this.pages.get(page);
    return kept && kept.version === version ? kept.json : undefined;
  }

  putPage(page: string, version: string, json: string): void {
    this.pages.delete(page);
    if (this.pages.size >= RENDER_CACHE_PAGES) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(page, { version, json });
  }
}
