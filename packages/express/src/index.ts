// The public surface of @detour/express. Everything not exported here is internal.
export { detour, type DetourLogger, type DetourMiddlewareOptions } from "./detour-middleware.js";
