# ConfigMgr Configuration Item, discovery script (docs/operations.md, "The last result in the
# registry"): the device's last cmgdiag verdict, for a compliance rule "The value returned by the
# specified script: Equals pass" (or "One of pass, warn"). A device that never ran cmgdiag reports
# "none", which is non-compliant too. Data type: String. Run as SYSTEM (64-bit).
$key = 'HKLM:\SOFTWARE\cmgdiag\LastResult'
$v = Get-ItemProperty -LiteralPath $key -ErrorAction SilentlyContinue
if (-not $v -or -not $v.Overall) { Write-Output 'none'; exit 0 }
Write-Output $v.Overall
