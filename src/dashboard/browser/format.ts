export const integer = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : Math.round(value).toLocaleString('en-US');

export const percent = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;

export const milliseconds = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : value < 10 ? value.toFixed(2) : value.toFixed(1);

export function duration(seconds: number | null): string {
  if (seconds === null) return 'estimating';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s`;
}
