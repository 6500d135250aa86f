import { Status } from "./Status";
import { SortableTracks } from "./SortableTracks";
import { usePagedTracks } from "./usePagedTracks";
import { usePageTitle } from "./usePageTitle";

const ALL = {};

export function TracksPage() {
  usePageTitle("Tracks");
  const t = usePagedTracks(ALL, 100);
  return (
    <div className="page">
      <h1 tabIndex={-1}>Tracks</h1>
      <Status loading={t.loading && t.items.length === 0} error={t.error} what="tracks" retry={t.retry} />
      {(t.items.length > 0 || t.total === 0) && (
        <SortableTracks items={t.items} total={t.total} loading={t.loading} loadMore={t.loadMore} caption="All tracks" />
      )}
    </div>
  );
}
