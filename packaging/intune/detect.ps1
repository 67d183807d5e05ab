# Intune Remediations, detection script: the pre-upgrade gate of cmgdiag (docs/deployment.md,
# "Intune Remediations"). Run as SYSTEM, in 64-bit PowerShell. Works in Windows PowerShell 5.1
# (what Intune runs) and PowerShell 7.
#   exit 0  ready: nothing to do
#   exit 1  not ready, could not run, or cmgdiag is not installed: the remediation script runs
# Intune keeps the last line of standard output: the gate's one line (READY / NOT READY: why).
[Console]::OutputEncoding = [Text.Encoding]::UTF8   # cmgdiag writes UTF-8
$exe = Join-Path $env:ProgramFiles 'cmgdiag\cmgdiag.exe'
if (-not (Test-Path -LiteralPath $exe -PathType Leaf)) {
    Write-Output "COULD NOT RUN: cmgdiag is not installed ($exe)."
    exit 1
}
# Both streams, as text: in Windows PowerShell 5.1 a line on a native program's standard error is an
# error record, and under $ErrorActionPreference = 'Stop' it would end this script.
$out = & {
    $ErrorActionPreference = 'Continue'
    & $exe validate --profile pre-upgrade 2>&1 | ForEach-Object { "$_" }
}
$code = $LASTEXITCODE
$line = @($out | Where-Object { $_ -match '^(READY|NOT READY|COULD NOT RUN)' }) | Select-Object -Last 1
if (-not $line) {
    $said = (@($out) -join ' ').Trim()
    $line = if ($said) { "COULD NOT RUN: $said" } else { "COULD NOT RUN: cmgdiag.exe exited $code without output" }
}
Write-Output $line
if ($code -eq 0) { exit 0 }
exit 1
