import { useMemo, useState } from "react";
import { KEYS } from "./musicKeys";
import { Status } from "./Status";
import { SortableTracks } from "./SortableTracks";
import { filterCaption, filterQuery, isFiltering, NO_FILTER, type FilterInput } from "./trackFilter";
import { useDebouncedValue } from "./useDebouncedValue";
import { useSortedTracks } from "./useSortedTracks";
import { usePageTitle } from "./usePageTitle";

/** Quiet time before a typed BPM bound becomes a request. */
const BPM_DEBOUNCE_MS = 300;

export function TracksPage() {
  usePageTitle("Tracks");
  const [input, setInput] = useState<FilterInput>(NO_FILTER);
  const bpmMin = useDebouncedValue(input.bpmMin, BPM_DEBOUNCE_MS);
  const bpmMax = useDebouncedValue(input.bpmMax, BPM_DEBOUNCE_MS);
  const { query, error } = useMemo(() => filterQuery({ bpmMin, bpmMax, key: input.key }), [bpmMin, bpmMax, input.key]);
  const t = useSortedTracks(query, 100);
  const set = (patch: Partial<FilterInput>) => setInput((i) => ({ ...i, ...patch }));
  const filtering = isFiltering(input);
  return (
    <div className="page">
      <h1 tabIndex={-1}>Tracks</h1>
      <form className="track-filters" role="search" aria-label="Filter tracks" onSubmit={(e) => e.preventDefault()}>
        <fieldset className="bpm-range">
          <legend>BPM</legend>
          <BpmInput id="bpm-min" label="Lowest BPM" placeholder="from" value={input.bpmMin} invalid={!!error} onChange={(v) => set({ bpmMin: v })} />
          <span aria-hidden="true">–</span>
          <BpmInput id="bpm-max" label="Highest BPM" placeholder="to" value={input.bpmMax} invalid={!!error} onChange={(v) => set({ bpmMax: v })} />
        </fieldset>
        <div className="key-filter">
          <label htmlFor="key-filter">Key</label>
          <select id="key-filter" value={input.key} onChange={(e) => set({ key: e.target.value })}>
            <option value="">Any key</option>
            <optgroup label="Major">
              {KEYS.major.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </optgroup>
            <optgroup label="Minor">
              {KEYS.minor.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </optgroup>
          </select>
        </div>
        {filtering && (
          <button type="button" className="btn small" onClick={() => setInput(NO_FILTER)}>
            Clear filters
          </button>
        )}
      </form>
      {error && (
        <p id="track-filter-error" className="form-error" role="alert">
          {error}
        </p>
      )}
      <Status loading={t.loading && t.items.length === 0} error={t.error} what="tracks" retry={t.retry} />
      {t.total === 0 && Object.keys(query).length > 0 && <p className="muted">No tracks match these filters.</p>}
      {(t.items.length > 0 || t.total === 0) && (
        <SortableTracks
          items={t.items}
          total={t.total}
          loading={t.loading}
          loadMore={t.loadMore}
          caption={filterCaption(query)}
          sort={t.sort}
          onSort={t.onSort}
        />
      )}
    </div>
  );
}

function BpmInput(props: { id: string; label: string; placeholder: string; value: string; invalid: boolean; onChange: (v: string) => void }) {
  return (
    <>
      <label htmlFor={props.id} className="visually-hidden">
        {props.label}
      </label>
      <input
        id={props.id}
        type="number"
        inputMode="decimal"
        min={0}
        step="any"
        placeholder={props.placeholder}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={props.invalid || undefined}
        aria-describedby={props.invalid ? "track-filter-error" : undefined}
      />
    </>
  );
}
