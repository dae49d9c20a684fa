; Inno Setup script: the Windows installer of the dialer (Inno Setup 6).
;
; Build the one-folder app first (pyinstaller packaging\dialer.spec gives dist\dialer\), then,
; from the repository root:
;
;   iscc /DAppVersion=0.1.0 packaging\windows\dialer.iss
;
; which writes dist\dialer-<version>-windows-x64-setup.exe. /DSourceDir= and /DOutputDir=
; override the folders (relative to this script).
;
; It installs per user by default (no administrator needed; {autopf} is then the user's
; Programs folder and HKA is HKCU), or for all users when started as administrator. It adds a
; Start-menu shortcut, an uninstaller, and the tel:, callto: and sip: URL protocols:
; - Software\Classes\<scheme> ("URL:<scheme>", "URL Protocol", DefaultIcon, shell\open\command),
;   written only when no other program handles the scheme, so uninstalling never takes a
;   protocol away from another program;
; - a ProgID per scheme (Dialer.tel, ...) named in Software\Dialer\Capabilities, registered in
;   RegisteredApplications, so Dialer appears in Settings > Apps > Default apps, where the
;   user chooses it (Windows does not let an installer take a default from the user).

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\dialer.iss
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\dialer"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#define AppName "Dialer"
#define AppExe "dialer.exe"
#define AppDescription "Click-to-call dialer: your phone rings, then the customer's."

[Setup]
AppId={{AFD9743B-5A31-42FA-B976-93ED3C12B0DC}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=dialer-{#AppVersion}-windows-x64-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
Uninstallable=yes
UninstallDisplayName={#AppName} {#AppVersion}
UninstallDisplayIcon={app}\{#AppExe}
; Explorer re-reads the protocol handlers after install and uninstall.
ChangesAssociations=yes
; A running dialer is closed (and restarted afterwards) so its files can be replaced.
CloseApplications=yes
RestartApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "{#AppDescription}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; -- tel: ----------------------------------------------------------------------------------------
Root: HKA; Subkey: "Software\Classes\tel"; ValueType: string; ValueName: ""; ValueData: "URL:tel"; Flags: uninsdeletekey; Check: SchemeIsFreeOrOurs('tel')
Root: HKA; Subkey: "Software\Classes\tel"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""; Check: SchemeIsFreeOrOurs('tel')
Root: HKA; Subkey: "Software\Classes\tel\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"; Check: SchemeIsFreeOrOurs('tel')
Root: HKA; Subkey: "Software\Classes\tel\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Check: SchemeIsFreeOrOurs('tel')
Root: HKA; Subkey: "Software\Classes\Dialer.tel"; ValueType: string; ValueName: ""; ValueData: "URL:tel"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Dialer.tel"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Dialer.tel\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"
Root: HKA; Subkey: "Software\Classes\Dialer.tel\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; -- callto: -------------------------------------------------------------------------------------
Root: HKA; Subkey: "Software\Classes\callto"; ValueType: string; ValueName: ""; ValueData: "URL:callto"; Flags: uninsdeletekey; Check: SchemeIsFreeOrOurs('callto')
Root: HKA; Subkey: "Software\Classes\callto"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""; Check: SchemeIsFreeOrOurs('callto')
Root: HKA; Subkey: "Software\Classes\callto\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"; Check: SchemeIsFreeOrOurs('callto')
Root: HKA; Subkey: "Software\Classes\callto\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Check: SchemeIsFreeOrOurs('callto')
Root: HKA; Subkey: "Software\Classes\Dialer.callto"; ValueType: string; ValueName: ""; ValueData: "URL:callto"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Dialer.callto"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Dialer.callto\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"
Root: HKA; Subkey: "Software\Classes\Dialer.callto\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; -- sip: ----------------------------------------------------------------------------------------
Root: HKA; Subkey: "Software\Classes\sip"; ValueType: string; ValueName: ""; ValueData: "URL:sip"; Flags: uninsdeletekey; Check: SchemeIsFreeOrOurs('sip')
Root: HKA; Subkey: "Software\Classes\sip"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""; Check: SchemeIsFreeOrOurs('sip')
Root: HKA; Subkey: "Software\Classes\sip\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"; Check: SchemeIsFreeOrOurs('sip')
Root: HKA; Subkey: "Software\Classes\sip\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Check: SchemeIsFreeOrOurs('sip')
Root: HKA; Subkey: "Software\Classes\Dialer.sip"; ValueType: string; ValueName: ""; ValueData: "URL:sip"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Dialer.sip"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Dialer.sip\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"
Root: HKA; Subkey: "Software\Classes\Dialer.sip\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; -- Default apps: the capabilities and their registration ---------------------------------------
Root: HKA; Subkey: "Software\{#AppName}"; Flags: uninsdeletekeyifempty
Root: HKA; Subkey: "Software\{#AppName}\Capabilities"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\{#AppName}\Capabilities"; ValueType: string; ValueName: "ApplicationName"; ValueData: "{#AppName}"
Root: HKA; Subkey: "Software\{#AppName}\Capabilities"; ValueType: string; ValueName: "ApplicationDescription"; ValueData: "{#AppDescription}"
Root: HKA; Subkey: "Software\{#AppName}\Capabilities"; ValueType: string; ValueName: "ApplicationIcon"; ValueData: """{app}\{#AppExe}"",0"
Root: HKA; Subkey: "Software\{#AppName}\Capabilities\URLAssociations"; ValueType: string; ValueName: "tel"; ValueData: "Dialer.tel"
Root: HKA; Subkey: "Software\{#AppName}\Capabilities\URLAssociations"; ValueType: string; ValueName: "callto"; ValueData: "Dialer.callto"
Root: HKA; Subkey: "Software\{#AppName}\Capabilities\URLAssociations"; ValueType: string; ValueName: "sip"; ValueData: "Dialer.sip"
Root: HKA; Subkey: "Software\RegisteredApplications"; ValueType: string; ValueName: "{#AppName}"; ValueData: "Software\{#AppName}\Capabilities"; Flags: uninsdeletevalue

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
{ True when no other program handles the scheme: its shell\open\command is absent or ours.
  Setup writes Software\Classes\<scheme> only then, and so uninstall removes only what it
  wrote. HKEY_AUTO is HKCU in a per-user install and HKLM in an all-users one. }
function SchemeIsFreeOrOurs(Scheme: String): Boolean;
var
  Command: String;
begin
  if RegQueryStringValue(HKEY_AUTO, 'Software\Classes\' + Scheme + '\shell\open\command', '', Command) then
    Result := Pos(Lowercase('\{#AppExe}"'), Lowercase(Command)) > 0
  else
    Result := True;
end;
