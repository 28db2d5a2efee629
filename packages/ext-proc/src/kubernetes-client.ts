// @detour/ext-proc/kubernetes-client: detour's calls to a Kubernetes API server, on the
// official client. Importing it loads @kubernetes/client-node (Node >= 22.19): import it
// dynamically, after assertKubernetesClientNode().
export { DetourKubernetesApi, failureMessage, kubeConfigFromFile } from "./kubernetes/kubernetes-api.js";
