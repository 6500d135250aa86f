import { Status } from "./Status";
import { SortableTracks } from "./SortableTracks";
import { useSortedTracks } from "./useSortedTracks";
import { usePageTitle } from "./usePageTitle";

const ALL = {};

export function TracksPage() {
  usePageTitle("Tracks");
  const t = useSortedTracks(ALL, 100);
  return (
    <div className="page">
      <h1 tabIndex={-1}>Tracks</h1>
      <Status loading={t.loading && t.items.length === 0} error={t.error} what="tracks" retry={t.retry} />
      {(t.items.length > 0 || t.total === 0) && (
        <SortableTracks
          items={t.items}
          total={t.total}
          loading={t.loading}
          loadMore={t.loadMore}
          caption="All tracks"
          sort={t.sort}
          onSort={t.onSort}
        />
      )}
    </div>
  );
}
