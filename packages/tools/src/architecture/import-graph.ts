/**
 * The import graph collapsed to folders or packages, and its cycles: pure functions over
 * (importer, imported) file pairs, so the rules are tested apart from any real tree.
 */
export interface ImportEdge {
  from: string;
  to: string;
}

/** `packages/<name>/…` → `packages/<name>`; `test/…` → `test`; anything else (node_modules, the root) → null. */
export function packageOf(file: string): string | null {
  const m = /^(packages\/[^/]+|test)\//.exec(file);
  return m ? m[1]! : null;
}

/** The folder a file lives in. */
export function folderOf(file: string): string {
  const slash = file.lastIndexOf('/');
  return slash < 0 ? '.' : file.slice(0, slash);
}

/** Edges between the groups `groupOf` puts files in, each with one file-level edge as the example; edges inside a group drop out. */
export function collapse(edges: readonly ImportEdge[], groupOf: (file: string) => string | null): Map<string, Map<string, ImportEdge>> {
  const graph = new Map<string, Map<string, ImportEdge>>();
  for (const edge of edges) {
    const a = groupOf(edge.from);
    const b = groupOf(edge.to);
    if (a === null || b === null || a === b) continue;
    const out = graph.get(a) ?? graph.set(a, new Map()).get(a)!;
    if (!out.has(b)) out.set(b, edge);
  }
  return graph;
}

/**
 * Every cycle's strongly connected component (Tarjan), as one closed path through it with the
 * file-level edge behind each step, so a report says which import to turn around.
 */
export function findCycles(graph: Map<string, Map<string, ImportEdge>>): { groups: string[]; path: ImportEdge[] }[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return components.map((groups) => ({ groups, path: closedPath(graph, groups) }));
}

/** A path from the component's first group back to itself, staying inside the component (breadth-first, so short). */
function closedPath(graph: Map<string, Map<string, ImportEdge>>, groups: string[]): ImportEdge[] {
  const inside = new Set(groups);
  const start = groups[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path: ImportEdge[] = [graph.get(v)!.get(w)!];
        for (let at = v; at !== start; at = cameFrom.get(at)!) path.unshift(graph.get(cameFrom.get(at)!)!.get(at)!);
        return path;
      }
      if (!cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return [];
}
