import { useSession } from "../auth/useSession";
import { usePageTitle } from "../library/usePageTitle";
import { ScanPanel } from "./ScanPanel";
import { UploadPanel } from "./UploadPanel";

/** Library management, for admins: scanning the folders and uploading files. */
export function AdminPage() {
  usePageTitle("Admin");
  const session = useSession();
  if (session?.user.role !== "admin") {
    return (
      <div className="page">
        <h1 tabIndex={-1}>Admin</h1>
        <p className="notice">Only admins can scan the library and upload music. Ask your server's admin.</p>
      </div>
    );
  }
  return (
    <div className="page">
      <h1 tabIndex={-1}>Admin</h1>
      <div className="admin-grid">
        <ScanPanel />
        <UploadPanel />
      </div>
    </div>
  );
}
