export { DetourError } from "./detour-error.js";
