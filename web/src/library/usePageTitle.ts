import { useEffect } from "react";

/** Sets the document title ("Albums · Tonearm") so tabs, history and screen readers name the page. */
export function usePageTitle(title: string | null | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · Tonearm` : "Tonearm";
  }, [title]);
}
