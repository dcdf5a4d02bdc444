// Validates Kubernetes manifests (several YAML documents, as `helm template` or tests/chart/render writes them) read
// from standard input against the JSON schemas of their kinds: Kubernetes' own (kubernetes-models, generated from the
// Kubernetes OpenAPI specification) and the Prometheus Operator's (ServiceMonitor, PrometheusRule). Writes one JSON
// line per document: {"source", "apiVersion", "kind", "name", "errors": [...]}; a kind without a schema is an error.
import { parseAllDocuments } from "yaml";

const packages = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator/monitoring.coreos.com",
};

async function modelOf(apiVersion, kind) {
  const slash = apiVersion.lastIndexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const base = packages[group] ?? (group === "" ? "kubernetes-models" : `kubernetes-models/${group}`);
  try {
    const module = await import(`${base}/${version}/${kind}`);
    return module[kind];
  } catch {
    return undefined;
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;

let source = "";
for (const document of parseAllDocuments(input)) {
  const comment = `${document.commentBefore ?? ""}\n${document.contents?.commentBefore ?? ""}`.match(/Source: (\S+)/);
  if (comment) source = comment[1];
  if (document.errors.length > 0) {
    console.log(JSON.stringify({ source, errors: document.errors.map(e => e.message) }));
    continue;
  }
  const manifest = document.toJS();
  if (manifest === null || manifest === undefined) continue;
  const { apiVersion, kind } = manifest;
  const name = manifest.metadata?.name;
  const errors = [];
  const Model = apiVersion && kind ? await modelOf(apiVersion, kind) : undefined;
  if (!Model) {
    errors.push(`no schema for apiVersion ${apiVersion} kind ${kind}`);
  } else {
    try {
      new Model(manifest).validate();
    } catch (error) {
      errors.push(error.message);
    }
  }
  console.log(JSON.stringify({ source, apiVersion, kind, name, errors }));
}
