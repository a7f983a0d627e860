import { Chart, registerables, type ChartConfiguration } from 'chart.js';

Chart.register(...registerables);

/** Svelte action: draws a Chart.js chart on a canvas and redraws it when the configuration changes. */
export function chart(canvas: HTMLCanvasElement, config: ChartConfiguration) {
  let instance = new Chart(canvas, config);
  return {
    update(next: ChartConfiguration) {
      instance.destroy();
      instance = new Chart(canvas, next);
    },
    destroy() {
      instance.destroy();
    },
  };
}

export const PALETTE = ['#3b5bdb', '#f08c00', '#2b8a3e', '#c2255c', '#6741d9', '#0b7285'];
export const percent = (value: number | null | undefined, digits = 1) => (value === null || value === undefined ? '—' : `${(value * 100).toFixed(digits)}%`);
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}
