"""The main window's composition: menus, status bar, banners, controls, file dialogs."""
