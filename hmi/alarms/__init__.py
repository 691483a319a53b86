"""Alarms per ISA-18.2 / IEC 62682: definitions from the site, the state machine per alarm, shelving,
suppression by design, flood detection and KPIs. Qt-free; the engine runs on the io loop."""
