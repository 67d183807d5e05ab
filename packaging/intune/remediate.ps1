# Intune Remediations, remediation script (docs/deployment.md, "Intune Remediations"). It fixes on
# the device only what is safe to fix there, each fix from the table below with its source, and
# leaves everything else to an administrator: a CMG certificate, a CRL, a proxy or an Entra join is
# never touched from here. Run as SYSTEM, in 64-bit PowerShell; works in Windows PowerShell 5.1
# (what Intune runs) and PowerShell 7. Exit 0 unless it could not run; Intune's post-remediation
# detection then says whether the device is ready.
[Console]::OutputEncoding = [Text.Encoding]::UTF8   # cmgdiag writes UTF-8
$ErrorActionPreference = 'Stop'                     # a failing fix is caught below, and said
$exe = Join-Path $env:ProgramFiles 'cmgdiag\cmgdiag.exe'

function Sync-Clock {
    $said = & { $ErrorActionPreference = 'Continue'; & w32tm.exe /resync 2>&1 | ForEach-Object { "$_" } }
    if ($LASTEXITCODE -ne 0) { throw "w32tm /resync exited $LASTEXITCODE`: $($said -join ' ')" }
}

# Code (a check's result) -> what is done, and where that fix comes from.
$fixes = @(
    @{ Code = 'DEVICE_CCMEXEC_STOPPED'; Does = 'started the ConfigMgr client service (CcmExec)'
       Source = 'https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.management/start-service'
       Run = { Start-Service -Name CcmExec -ErrorAction Stop } }
    @{ Code = 'DEVICE_POLICY_OLD'; Does = 'asked the ConfigMgr client for machine policy and evaluated it'
       Source = 'https://learn.microsoft.com/en-us/mem/configmgr/develop/reference/core/clients/client-classes/triggerschedule-method-in-class-sms_client'
       Run = {
           foreach ($id in '{00000000-0000-0000-0000-000000000021}', '{00000000-0000-0000-0000-000000000022}') {
               Invoke-CimMethod -Namespace 'root\ccm' -ClassName SMS_Client -MethodName TriggerSchedule `
                   -Arguments @{ sScheduleID = $id } | Out-Null
           }
       } }
    @{ Code = 'CMG_CLOCK_SKEW'; Does = 'asked Windows Time to synchronize the clock now'
       Source = 'https://learn.microsoft.com/en-us/windows-server/networking/windows-time-service/windows-time-service-tools-and-settings'
       Run = { Sync-Clock } }
    @{ Code = 'NETENV_CLOCK_SKEW'; Does = 'asked Windows Time to synchronize the clock now'
       Source = 'https://learn.microsoft.com/en-us/windows-server/networking/windows-time-service/windows-time-service-tools-and-settings'
       Run = { Sync-Clock } }
)

if (-not (Test-Path -LiteralPath $exe -PathType Leaf)) {
    Write-Output "Nothing done: cmgdiag is not installed ($exe)."
    exit 1
}
# standard output only (one JSON object); under 'Stop' a standard-error line of a native program is a
# terminating error in Windows PowerShell 5.1, so the call runs with 'Continue' in its own scope
$json = & {
    $ErrorActionPreference = 'Continue'
    & $exe validate --profile pre-upgrade --json 2>$null
} | Out-String
try { $bundle = $json | ConvertFrom-Json } catch { $bundle = $null }
if (-not $bundle) {
    Write-Output 'Nothing done: the gate did not run (cmgdiag validate --profile pre-upgrade says why).'
    exit 1
}
$found = @($bundle.checks | Where-Object { $_.status -in 'fail', 'warn' } | ForEach-Object { $_.code })
$done = @(); $left = @(); $ran = @{}
foreach ($code in $found) {
    $fix = $fixes | Where-Object { $_.Code -eq $code } | Select-Object -First 1
    if (-not $fix) { $left += $code; continue }
    if ($ran.ContainsKey($fix.Does)) { continue }
    try { & $fix.Run; $done += $fix.Does; $ran[$fix.Does] = $true }
    catch { $left += "$code (the fix failed: $($_.Exception.Message))" }
}
$say = if ($done) { 'Done: ' + ($done -join '; ') + '.' } else { 'Nothing fixed on the device.' }
if ($left) { $say += ' Needs an administrator: ' + ($left -join ', ') + ' (see the bundle and docs/checks).' }
Write-Output $say
exit 0
