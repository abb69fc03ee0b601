/** Calls per day as bars (uPlot on a canvas), with the figures also readable as text for screen readers. */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatCountOf, formatDay } from '../../lib/format.ts';

export function CallsChart({ dates, calls, booked }: { dates: string[]; calls: number[]; booked: number[] }) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const xs = dates.map((date) => Date.parse(`${date}T12:00:00Z`) / 1000);
    const bars = uPlot.paths.bars?.({ size: [0.7, 40], align: 0 });
    const chart = new uPlot(
      {
        width: Math.max(element.clientWidth, 280),
        height: 220,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'UTC'),
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
        axes: [
          { stroke: '#475569', grid: { show: false }, ticks: { show: false } },
          { stroke: '#475569', grid: { stroke: '#e2e8f0', width: 1 }, ticks: { show: false }, size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
        ],
        series: [
          {},
          { label: 'Calls', fill: '#93c5fd', stroke: '#2563eb', width: 1, ...(bars ? { paths: bars } : {}), points: { show: false } },
          { label: 'Booked', fill: '#15803d', stroke: '#15803d', width: 1, ...(bars ? { paths: uPlot.paths.bars?.({ size: [0.35, 20], align: 0 }) } : {}), points: { show: false } },
        ],
      },
      // Days without calls are gaps, not hairlines along the axis.
      [xs, calls.map((n) => n || null), booked.map((n) => n || null)],
      element,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(element.clientWidth, 280), height: 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [dates, calls, booked]);

  const total = calls.reduce((sum, n) => sum + n, 0);
  const busiest = calls.reduce((best, n, i) => (n > (calls[best] ?? 0) ? i : best), 0);
  return (
    <figure className="chart">
      <div ref={box} role="img" aria-label={`Calls per day: ${formatCountOf(total, 'call')} over ${formatCountOf(dates.length, 'day')}${total > 0 && dates[busiest] ? `, most on ${formatDay(dates[busiest])} (${calls[busiest]})` : ''}.`} />
    </figure>
  );
}
