; Inno Setup 6 script for ApexAPI: installs the PyInstaller folder (dist\ApexAPI) for the
; current user or all users, with Start menu and optional sign-in start. Build on Windows:
;   pyinstaller installer\apexapi.spec --noconfirm --distpath dist --workpath build\pyinstaller
;   iscc installer\apexapi.iss        -> installer\Output\ApexAPI-Setup-<version>.exe
; (.github/workflows/windows-build.yml does both on a Windows runner.)

#define AppName "ApexAPI"
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6C1F5E1A-8B7E-4E0B-9A53-5F0B1F9C2A11}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=PreRoll Suite
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
; Per-user install by default (no admin rights needed); the dialog offers all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=Output
OutputBaseFilename=ApexAPI-Setup-{#AppVersion}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
; ApexAPI must not run while its files are replaced; the installer asks it to close.
CloseApplications=yes
UninstallDisplayIcon={app}\ApexAPI.exe

[Tasks]
Name: "autostart"; Description: "Start ApexAPI when I sign in"; GroupDescription: "Start-up:"
Name: "desktopicon"; Description: "Create a desktop shortcut"; GroupDescription: "Shortcuts:"; Flags: unchecked

[Files]
Source: "..\dist\ApexAPI\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Dirs]
; Settings, logs and the state file live here (the program folder may be read-only).
Name: "{userappdata}\ApexAPI"
Name: "{localappdata}\ApexAPI"

[Icons]
Name: "{group}\ApexAPI"; Filename: "{app}\ApexAPI.exe"
Name: "{group}\ApexAPI settings (apex_config.json)"; Filename: "{userappdata}\ApexAPI"
Name: "{group}\Uninstall ApexAPI"; Filename: "{uninstallexe}"
Name: "{autodesktop}\ApexAPI"; Filename: "{app}\ApexAPI.exe"; Tasks: desktopicon
Name: "{userstartup}\ApexAPI"; Filename: "{app}\ApexAPI.exe"; Tasks: autostart

[Run]
; First start: with no apex_config.json yet ApexAPI opens its set-up page.
Filename: "{app}\ApexAPI.exe"; Description: "Start ApexAPI now"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; Stop a running ApexAPI cleanly (state saved, sync lease released) before its files go.
Filename: "{app}\apexapi-cli.exe"; Parameters: "--quit"; Flags: runhidden; RunOnceId: "QuitApexAPI"
