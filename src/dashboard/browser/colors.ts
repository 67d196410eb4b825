/** A colour per node, stable for a node id whatever the order members arrive in. */
const PALETTE = [
  '#4da3ff',
  '#f778ba',
  '#3fb950',
  '#d29922',
  '#a371f7',
  '#ff7b72',
  '#39c5cf',
  '#e3b341',
  '#8ddb8c',
  '#ffa657',
  '#79c0ff',
  '#d2a8ff',
];

function hashOf(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash >>> 0;
}

/**
 * Colours for a set of node ids: the palette in id order while it lasts (distinct and readable), then hues
 * spread by the golden angle from each id's hash.
 */
export function nodeColors(ids: readonly string[]): Map<string, string> {
  const sorted = [...ids].sort();
  const colors = new Map<string, string>();
  sorted.forEach((id, index) => {
    colors.set(
      id,
      sorted.length <= PALETTE.length
        ? PALETTE[index]!
        : `hsl(${Math.round((hashOf(id) % 360) + index * 137.508) % 360} 70% 62%)`,
    );
  });
  return colors;
}
