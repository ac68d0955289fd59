// Placeholder until the formats compiler lands: nothing to compile yet.
process.stdout.write('formats: no .ksy files yet\n');
