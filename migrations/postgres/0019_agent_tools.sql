-- Agents choose their tools (issue 12, SPEC F-02): `agents.tools` (a JSON list, unused until
-- now and '[]' everywhere) becomes the file tools a step offers the agent. Every step offered
-- all of them so far, so existing agents keep all three; from now on '[]' means none.
UPDATE agents SET tools = '["list_files","read_file","write_file"]' WHERE tools = '[]';
