# ConfigMgr Configuration Item, discovery script (docs/operations.md, "The last result in the
# registry"): the device's last cmgdiag verdict, for a compliance rule "The value returned by the
# specified script: Equals pass" (or "One of pass, warn"). A device that never ran cmgdiag reports
# "none", and one whose last result is older than two heartbeats (12 hours: the agent stopped
# reporting) "stale"; both are non-compliant. Data type: String. Run as SYSTEM (64-bit). Works in
# Windows PowerShell 5.1 and PowerShell 7.
$key = 'HKLM:\SOFTWARE\cmgdiag\LastResult'
$v = Get-ItemProperty -LiteralPath $key -ErrorAction SilentlyContinue
if (-not $v -or -not $v.Overall) { Write-Output 'none'; exit 0 }
$when = [datetime]::MinValue
$ok = [datetime]::TryParse([string]$v.Time, [Globalization.CultureInfo]::InvariantCulture,
    [Globalization.DateTimeStyles]::AdjustToUniversal -bor [Globalization.DateTimeStyles]::AssumeUniversal, [ref]$when)
if (-not $ok -or ([datetime]::UtcNow - $when).TotalHours -gt 12) { Write-Output 'stale'; exit 0 }
Write-Output $v.Overall
