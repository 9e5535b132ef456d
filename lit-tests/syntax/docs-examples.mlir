// Every complete program in the language reference (```agent blocks) passes `agentc check`.
// RUN: rm -rf %t && python3 %S/../../tools/doc_examples.py %S/../../docs/language.md %t > %t.list
// RUN: test -s %t.list
// RUN: for f in $(cat %t.list); do %agentc check $f || exit 1; done
