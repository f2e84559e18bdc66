// Every test that talks to the Ceph RGW runs from this one file, so in one worker and in order:
// the outage cases stop and restart radosgw, which would break cases running beside them.
import './round-trip.cases.js';
import './hosts-and-refusals.cases.js';
import './faults.cases.js';
