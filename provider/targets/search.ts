import { restIndexDriver } from "./restIndex";
import type { SearchTarget } from "./target";

/** Upstash Search: `POST /v2/search/{id}/reset-password`, tokens from `GET /v2/search/{id}`. */
export const searchDriver = restIndexDriver<SearchTarget>({
  product: "search",
  label: "Search index",
  listPath: "/v2/search",
  resetPath: (id) => `/v2/search/${id}/reset-password`,
  getPath: (id) => `/v2/search/${id}`,
  envPrefix: "UPSTASH_SEARCH",
});
