# Intune Remediations, detection script: the pre-upgrade gate of cmgdiag (docs/deployment.md,
# "Intune Remediations"). Run as SYSTEM, in 64-bit PowerShell.
#   exit 0  ready: nothing to do
#   exit 1  not ready, could not run, or cmgdiag is not installed: the remediation script runs
# Intune keeps the last line of standard output: the gate's one line (READY / NOT READY: why).
$ErrorActionPreference = 'Stop'
$exe = Join-Path $env:ProgramFiles 'cmgdiag\cmgdiag.exe'
if (-not (Test-Path -LiteralPath $exe -PathType Leaf)) {
    Write-Output "COULD NOT RUN: cmgdiag is not installed ($exe)."
    exit 1
}
$line = & $exe validate --profile pre-upgrade 2>$null | Select-Object -Last 1
$code = $LASTEXITCODE
Write-Output $line
if ($code -eq 0) { exit 0 }
exit 1
