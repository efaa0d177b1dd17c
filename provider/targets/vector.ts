import { restIndexDriver } from "./restIndex";
import type { VectorTarget } from "./target";

/** Upstash Vector: `POST /v2/vector/index/{id}/reset-password`, tokens from `GET /v2/vector/index/{id}`. */
export const vectorDriver = restIndexDriver<VectorTarget>({
  product: "vector",
  label: "Vector index",
  listPath: "/v2/vector/index",
  resetPath: (id) => `/v2/vector/index/${id}/reset-password`,
  getPath: (id) => `/v2/vector/index/${id}`,
  envPrefix: "UPSTASH_VECTOR",
});
