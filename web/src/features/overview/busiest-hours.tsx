/** Calls by weekday and hour (client timezone) as a table whose cells shade with the count. */
import { Fragment } from 'react';
import { formatCountOf } from '../../lib/format.ts';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const hourLabel = (hour: number) => (hour === 0 ? '12a' : hour < 12 ? `${hour}a` : hour === 12 ? '12p' : `${hour - 12}p`);

/** The hours worth showing: 6 am to 9 pm, widened to any hour that had calls. */
export function visibleHours(grid: number[][]): number[] {
  let first = 6;
  let last = 21;
  grid.forEach((row) =>
    row.forEach((n, hour) => {
      if (n > 0) {
        first = Math.min(first, hour);
        last = Math.max(last, hour);
      }
    }),
  );
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

export function BusiestHours({ grid, timezone }: { grid: number[][]; timezone: string }) {
  const hours = visibleHours(grid);
  const max = Math.max(1, ...grid.flat());
  return (
    <div className="heatmap-scroll">
      <table className="heatmap">
        <caption className="visually-hidden">Calls by day of week and hour, {timezone}</caption>
        <thead>
          <tr>
            <td />
            {hours.map((hour) => (
              <th key={hour} scope="col">
                {hour % 3 === 0 ? hourLabel(hour) : <span className="visually-hidden">{hourLabel(hour)}</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.map((row, day) => (
            <tr key={DAYS[day]}>
              <th scope="row">{DAYS[day]}</th>
              {hours.map((hour) => {
                const n = row[hour] ?? 0;
                const level = n === 0 ? 0 : Math.ceil((n / max) * 4);
                return (
                  <Fragment key={hour}>
                    <td className={`heat heat-${level}`} title={`${DAYS[day]} ${hourLabel(hour)}: ${formatCountOf(n, 'call')}`}>
                      <span className="visually-hidden">{n}</span>
                    </td>
                  </Fragment>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
