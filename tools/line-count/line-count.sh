#!/bin/sh
# Prints the number of lines in the file given as $1.
exec wc -l < "$1"
