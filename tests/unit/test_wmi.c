/* The WMI and registry helpers. Under wine (the windows tier) they run for real: root\cimv2 has
 * Win32_OperatingSystem, root\ccm\LocationServices does not exist (0x8004100E, exactly what a
 * machine without the ConfigMgr client answers). Elsewhere they must say "unsupported". */
#include "platform/sys.h"
#include "platform/wmi.h"
#include "test.h"

static bool windows;

TEST(cimv2_answers) {
  cJSON *rows = NULL;
  struct cg_wmi_error err;
  int rc = cg_wmi_query("root\\cimv2", "SELECT Caption, Version FROM Win32_OperatingSystem", 10000, &rows, &err);
  if (!windows) {
    CHECK(rc == CG_ERR_UNSUPPORTED);
    CHECK(rows == NULL);
    return;
  }
  CHECK(rc == CG_OK);
  CHECK(cJSON_GetArraySize(rows) >= 1);
  const cJSON *cap = cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "Caption");
  CHECK(cJSON_IsString(cap) && strlen(cap->valuestring) > 0);
  if (cJSON_IsString(cap)) printf("     Win32_OperatingSystem.Caption = %s\n", cap->valuestring);
  cJSON_Delete(rows);
}

TEST(missing_namespace_is_client_not_installed) {
  cJSON *rows = NULL;
  struct cg_wmi_error err;
  int rc = cg_wmi_query("root\\ccm\\LocationServices", "SELECT * FROM SMS_ActiveMPCandidate", 10000, &rows, &err);
  if (!windows) {
    CHECK(rc == CG_ERR_UNSUPPORTED);
    return;
  }
  CHECK(rc == CG_ERR_NOTFOUND);
  CHECK(err.hresult == CG_WBEM_E_INVALID_NAMESPACE);
  CHECK_CONTAINS(err.message, "root\\ccm\\LocationServices");
  CHECK_CONTAINS(err.message, "0x8004100E");
  CHECK(rows == NULL);
  /* A class that does not exist in an existing namespace: Windows answers WBEM_E_INVALID_CLASS
   * (CG_ERR_NOTFOUND), wine answers no rows. Either way no row may be invented. */
  rc = cg_wmi_query("root\\cimv2", "SELECT * FROM Cmgdiag_NoSuchClass", 10000, &rows, &err);
  CHECK(rc == CG_ERR_NOTFOUND || (rc == CG_OK && cJSON_GetArraySize(rows) == 0));
  cJSON_Delete(rows);
}

TEST(registry_reads) {
  cJSON *v = NULL;
  int rc = cg_registry_read_hklm("SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", "CurrentVersion", &v);
  if (!windows) {
    CHECK(rc == CG_ERR_UNSUPPORTED);
    return;
  }
  CHECK(rc == CG_OK && cJSON_IsString(v));
  cJSON_Delete(v);
  CHECK(cg_registry_read_hklm("SOFTWARE\\Microsoft\\SMS\\Mobile Client", "AssignedSiteCode", &v) == CG_ERR_NOTFOUND);
  CHECK(cg_registry_read_hklm("SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", "NoSuchValue", &v) == CG_ERR_NOTFOUND);
}

int main(void) {
  cg_json_init_hooks();
  windows = strcmp(cg_platform_name(), "windows") == 0;
  RUN(cimv2_answers);
  RUN(missing_namespace_is_client_not_installed);
  RUN(registry_reads);
  return test_finish("wmi");
}
