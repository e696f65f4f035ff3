# Write IN (a text file) to OUT as `const char ct_schema_sql[]`, NUL-terminated.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* Generated from schema.sql by embed.cmake. */\nconst char ct_schema_sql[] = {${bytes}0};\n")
