// A uPlot time series that follows its data: one chart, its series replaced on each update.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  color: string;
}

/** `data[0]` is unix seconds; `data[i]` the values of `series[i - 1]`. */
export function TimeChart({
  title,
  series,
  data,
  unit,
}: {
  title: string;
  series: Series[];
  data: (number | null)[][];
  unit: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current!;
    const width = () => Math.max(260, el.clientWidth);
    plot.current = new uPlot(
      {
        title,
        width: width(),
        height: 200,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
        axes: [{}, { label: unit }],
      },
      data as uPlot.AlignedData,
      el,
    );
    const onResize = () => plot.current?.setSize({ width: width(), height: 200 });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.current?.destroy();
      plot.current = null;
    };
    // Built once; data updates go through setData below.
  }, []);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div className="chart" ref={box} aria-label={title} role="img" />;
}
