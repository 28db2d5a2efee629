// The public surface of @detour/fastify. Everything not exported here is internal.
export { detourPlugin, requestContext, type DetourPluginOptions } from "./detour-plugin.js";
