//! SARIF 2.1.0 output, so CI systems and code-scanning UIs show vetting findings.
