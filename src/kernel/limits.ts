/**
 * Every bound in Holdfast, named once, units last. Protocol code takes these through its
 * options so tests can shrink them; the defaults here are what production runs.
 */
export const limits = {
  // --- consensus: timing -------------------------------------------------------------------
  /** Leader heartbeat period. */
  heartbeatIntervalMs: 50,
  /** Followers start a pre-vote after hearing nothing for a random time in [min, max). */
  electionTimeoutMinMs: 300,
  electionTimeoutMaxMs: 600,
  /**
   * A leader serves lease reads for this long after the send time of the last heartbeat a
   * majority answered. Must stay below electionTimeoutMinMs by the clock-drift margin, because
   * followers refuse votes for electionTimeoutMinMs after hearing the leader.
   */
  leaderLeaseMs: 240,

  // --- consensus: replication and flow control ---------------------------------------------
  /** Entries in one append message. */
  appendEntriesMax: 4096,
  /** Payload bytes in one append message (one entry may exceed it alone). */
  appendBytesMax: 1024 * 1024,
  /** A snapshot travels in chunks of this size, one in flight per follower. */
  snapshotChunkBytes: 1024 * 1024,
  /** Append messages in flight to one follower before waiting for an answer. */
  inflightAppendsMax: 16,
  /** Bytes proposed but not yet committed; past this, proposals are refused (back-pressure). */
  uncommittedBytesMax: 64 * 1024 * 1024,
  /** Proposals waiting for commit on the leader. */
  pendingProposalsMax: 262_144,
  /** One proposal's payload. */
  proposalBytesMax: 1024 * 1024,
  /** A learner is promoted once it is within this many entries of the leader. */
  learnerCatchUpEntriesMax: 64,
  /** Take a snapshot after this many applied entries since the last one. */
  snapshotEntriesInterval: 100_000,
  /**
   * ...or after this many bytes of applied entries, or the last snapshot's size if larger:
   * a restart then replays at most about one state's worth of log (application-driver.ts).
   */
  snapshotLogBytesMin: 16 * 1024 * 1024,
  /** A leader applying before commit waits this long for the commit index before a snapshot. */
  snapshotCommitWaitMs: 100,

  // --- the event loop ------------------------------------------------------------------------
  /**
   * Application work (applying entries, restoring or encoding a snapshot) yields the event loop
   * once a slice ran this long, so heartbeats, votes and lease renewals are never held up by
   * more than about this (one entry is never split: a slice may run over by one entry's work).
   */
  applySliceMs: 4,

  // --- write-ahead log --------------------------------------------------------------------
  /** A segment file rolls over past this size. */
  walSegmentBytesMax: 64 * 1024 * 1024,
  /** One record (header + payload). */
  walRecordBytesMax: 64 * 1024 * 1024,

  // --- transport ---------------------------------------------------------------------------
  /** One frame on the wire, header included. Larger frames close the connection. */
  frameBytesMax: 16 * 1024 * 1024,
  /** Bytes queued for one peer while it is unreachable; older messages are dropped first. */
  peerQueueBytesMax: 32 * 1024 * 1024,
  /** Reconnect backoff. */
  reconnectDelayMinMs: 50,
  reconnectDelayMaxMs: 2000,
  /** Handshake must finish within this time. */
  handshakeTimeoutMs: 2000,
  /** Inbound connections still in their handshake (peer port, realm port); more are refused. */
  pendingHandshakesMax: 64,
  /** Of those, from one remote address: a stranger cannot take every slot from the real peers. */
  pendingHandshakesPerAddressMax: 8,
  /** Bytes handed to the socket in one write. */
  writeBatchBytesMax: 1024 * 1024,
  /** A frame decoder keeps at most this much buffer after a large frame. */
  decoderRetainedBytesMax: 256 * 1024,

  // --- client port and client library --------------------------------------------------------
  /** Client connections one member accepts at once. */
  clientConnectionsMax: 1024,
  /** Proposals one client connection may have waiting for an answer. */
  proposalsInFlightPerConnectionMax: 65_536,
  /** Applied commands returned in one inspection page. */
  appliedPageCommandsMax: 65_536,
  /** A client gives up on a request after this long, leader changes included. */
  requestTimeoutMs: 10_000,
  /** Pause before retrying when no member knows a leader (an election is running). */
  noLeaderRetryDelayMs: 50,

  // --- server sessions (application clients) -----------------------------------------------
  /** Client sessions one server accepts at once. */
  sessionsPerServerMax: 4096,
  /** Publish requests one session may have waiting for the cluster. */
  publishRequestsInFlightPerSessionMax: 1024,
  /** Bytes queued for a session's socket before it is disconnected as a slow consumer. */
  sessionBufferedBytesMax: 64 * 1024 * 1024,
  /** Messages a publisher sends in one request (one log entry). */
  publishItemsPerRequestMax: 256,
  /** A leader whose lease check failed tries again to deliver after this long. */
  deliveryLeaseRetryMs: 20,
  /** Retained messages are copied into shared slabs of this size (persistence/message-slab.ts). */
  messageSlabBytes: 256 * 1024,
  /** Messages this large or larger get a buffer of their own instead. */
  messageOwnBufferBytesMin: 16 * 1024,
  /** While idle, the leader advances log time this often (stores with an age limit). */
  logTimeTickIntervalMs: 1000,
  /** Map entries in one iterate page. */
  mapEntriesPerPageMax: 4096,
  /**
   * A client waits this long for the hello answer: twice the server's helloDeadlineMs, so a
   * client whose login the server could not finish hears the server's typed reason (closing
   * with `hello-timeout`) before it would give up on its own.
   */
  helloTimeoutMs: 10_000,

  // --- untrusted requests: a session's frame is walked against these before it is unpacked ---
  /**
   * Nesting of maps and arrays in one request (the request map is depth 1). A matcher operand
   * shaped like a message takes two levels per nested message: 7 + 2 * messageNestingDepthMax fits.
   */
  sessionRequestDepthMax: 64,
  /** Entries in one map of a request (a message operand has at most messageFieldsMax fields). */
  sessionRequestMapEntriesMax: 1024,
  /** Elements in one array of a request (an ack carries at most sequencesPerCommandMax). */
  sessionRequestArrayLengthMax: 65_536,
  /** Values in one request, map keys included, all levels together. */
  sessionRequestNodesMax: 262_144,

  // --- admission: connections not yet authenticated, and password checks ------------------
  /** Client-port connections not yet welcomed, server-wide; counted apart from sessionsPerServerMax. */
  unauthenticatedConnectionsMax: 256,
  /** Client-port connections not yet welcomed from one remote address. */
  unauthenticatedConnectionsPerAddressMax: 32,
  /**
   * A client connection must be welcomed (hello received, password checked) this long after it
   * was accepted, or it is closed with `hello-timeout`. Long enough for a check that waited in
   * a full queue (passwordChecksQueuedMax / passwordCheckWorkersMax scrypts of about 0.25 s each,
   * twice that on a machine with one worker: 2 s).
   */
  helloDeadlineMs: 5000,
  /** One frame before hello (client port) or before the handshake (peer and realm ports) succeeded. */
  unauthenticatedFrameBytesMax: 64 * 1024,
  /** A refused connection gets this long to read why (its closing frame) before it is dropped. */
  refusedConnectionLingerMs: 1000,
  /** Refused connections lingering at once (each holds a file descriptor); past this they are dropped at once. */
  refusedConnectionsLingeringMax: 1024,
  /**
   * What a lingering connection still sends is read and dropped up to this many bytes (a client
   * that pipelined a request behind its hello still gets a clean close); past it reading stops
   * and TCP's flow control holds the sender, so an attacker cannot stream through the server.
   */
  refusedConnectionDrainBytesMax: 64 * 1024,
  /** Refusals of one kind are logged once, then summarised per address this often. */
  refusalLogIntervalMs: 10_000,
  /** Addresses named in one refusal summary; the others are counted together. */
  refusalLogAddressesMax: 16,
  /**
   * Worker threads of our own for password checks (scrypt): never libuv's pool, which the WAL's
   * fsync uses. At most this many, and one fewer than the machine's cores (at least one), so a
   * login flood leaves a core to the event loop (password-checks.ts).
   */
  passwordCheckWorkersMax: 2,
  /** Password checks waiting for a worker; more are refused with `busy`. A full queue waits about 1 s. */
  passwordChecksQueuedMax: 8,
  /** Password checks running or waiting for one remote address; more are refused with `busy`. */
  passwordChecksPerAddressMax: 4,
  /** How long a `busy` refusal tells the client to wait before trying again. */
  passwordBusyRetryAfterMs: 1000,
  /** Failed logins from one address before it is backed off (refused without a check). */
  loginFailuresPerAddressMax: 10,
  /**
   * Failed logins for one user name before it is backed off, for addresses that failed recently
   * only: an address with no failures still gets in, so a flood cannot lock out the real user.
   */
  loginFailuresPerUserMax: 20,
  /** Failures are forgotten after this long without another one. */
  loginFailureWindowMs: 300_000,
  /** Backoff after the budget is spent: doubles with each further failure, up to the max. */
  loginBackoffMinMs: 1000,
  loginBackoffMaxMs: 60_000,
  /** Addresses and user names whose failures are remembered; the least recently failing go first. */
  loginBudgetEntriesMax: 65_536,
  /** Successful password checks remembered (as digests), so reconnect storms do not cost one scrypt each. */
  verifiedPasswordsCachedMax: 1024,

  // --- persistence messages and matchers (defaults; stores may lower them) -----------------
  /** Characters in one field name. */
  messageFieldNameLengthMax: 128,
  /** Fields in one message, nested messages counted separately. */
  messageFieldsMax: 1024,
  /** Elements in one array field. */
  messageArrayLengthMax: 65_536,
  /** Nested message depth; the top-level message is depth 1. */
  messageNestingDepthMax: 16,
  /** Encoded size of one message. */
  messageBytesMax: 8 * 1024 * 1024,
  /** Field tests in one matcher. */
  matcherFieldTestsMax: 64,
  /** Characters in one subject pattern. */
  subjectPatternLengthMax: 1024,
  /** Dot-separated tokens in one subject pattern. */
  subjectTokensMax: 64,
  /** Field names in one dotted field path. */
  matcherFieldPathLengthMax: 16,

  // --- realm definition --------------------------------------------------------------------
  /** Characters in one realm definition file; larger files are refused unread. */
  realmDefinitionCharactersMax: 4 * 1024 * 1024,
  /** YAML alias expansions in one file (a billion-laughs guard). */
  realmYamlAliasCountMax: 100,
  /**
   * Collections nested in one another in a realm definition (the top-level mapping is 1). The
   * format needs 6 (durables[].matcher.fields[]); yaml's composer recurses per level.
   */
  realmYamlNestingDepthMax: 32,
  /** Keys, values and collections in a realm definition: about 10,000 users, each with one permission. */
  realmYamlNodesMax: 150_000,
  /** Keys in one mapping of a realm definition; the format's largest mapping has 9. */
  realmYamlKeysPerMapMax: 256,
  /** Errors listed for one realm definition; the rest are counted, not listed. */
  realmErrorsListedMax: 100,
  /**
   * A server reading a realm definition (a deploy) gives the event loop a turn at the next step
   * after this long, so a large definition does not hold up heartbeats and consensus.
   */
  realmParseSliceMs: 10,
  /**
   * A definition handed to a server (a deploy, a test from upstream) is read in a worker thread
   * of its own with this much heap at most: a 4 MB definition took 274 MiB to read, and the
   * worker's memory goes with it (adapters/node/definition-reader.ts).
   */
  realmReadHeapMbMax: 512,
  /** ...and stops it past this long (the largest definition accepted reads in about 4 s). */
  realmReadTimeoutMs: 30_000,
  /** Bounds on a stored scrypt hash's cost parameters, so a hostile file cannot stall a login. */
  scryptNMax: 2 ** 20,
  scryptRMax: 32,
  scryptPMax: 16,

  // --- realm services (issue 5) --------------------------------------------------------------
  /** Affiliated realm servers send each other a heartbeat this often (FTL's default). */
  realmHeartbeatIntervalMs: 1000,
  /** A link that carried nothing for this long is declared broken (FTL's default). */
  realmHeartbeatTimeoutMs: 3000,
  /** A realm server redials a lost affiliated server after this delay, doubling up to the max. */
  realmReconnectDelayMinMs: 100,
  realmReconnectDelayMaxMs: 2000,
  /** Characters of a reason (a refusal) carried between realm servers; longer ones are cut. */
  realmReasonLengthMax: 1024,
  /** Realm effects waiting behind a revision store; past this the disk is deemed stalled. */
  realmEffectsQueuedMax: 65_536,
  /** Deployed revisions a server keeps for redeploy; the oldest go first (the newest always stays). */
  realmRevisionsKeptMax: 1000,
  /** The realm service's tick: heartbeats, timeouts and redials are this precise. */
  realmTickMs: 100,
  /** A deploy's test and activation wait this long for each client's answer ("timed out" after). */
  realmClientAnswerTimeoutMs: 3000,
  /**
   * A deploy's test waits this long for each affiliated server's clients (it asks its own for
   * up to realmClientAnswerTimeoutMs, then answers over the link).
   */
  realmTestTimeoutMs: 4000,
  /** Deploy tests waiting for answers on one server at once (deploys run one at a time). */
  realmTestsPendingMax: 16,
  /** Client answers one server sends in one test answer (as many as it may have sessions). */
  realmTestClientsMax: 4096,
  /** A deploy waits this long for the primary's backup to hold the new revision before answering. */
  realmBackupAckWaitMs: 3000,
  /** A client gives a realm server at least this long to welcome it (scrypt at the first login). */
  homeHelloTimeoutMinMs: 2000,
  /** A primary on its first start tries its realm file as revision 1 this often until taken. */
  realmBootstrapRetryMs: 1000,
  /** Deploys waiting behind the one running; more are refused (each may take about 10 s). */
  realmDeploysQueuedMax: 4,
  /** Lines of a deploy's diff shown; a longer diff is cut with a count of what was left out. */
  realmDiffLinesMax: 400,

  // --- cluster ------------------------------------------------------------------------------
  /** Members of one consensus group (FTL: 3 or 5 services; more is allowed, bounded). */
  membersMax: 9,

  // --- delivery (leader-local) ---
  /** A delivered message unacked this long is delivered again (durables may set their own). */
  deliveryAckWaitMs: 30_000,
  /** A subscriber's prefetch (unacked deliveries; last-value: credit) is 1 to this. */
  deliveryPrefetchMax: 10_000,
  /** Deliveries one poll hands out, spread round robin over durables and subscribers. */
  deliveriesPerPollMax: 4096,
  /** Expired ack waits one poll handles; the rest wait for the next poll. */
  deliveryExpirationsPerPollMax: 16_384,
  /** Subscribers attached to one shared durable. */
  deliverySubscribersPerDurableMax: 256,
  /** Subscribers attached to one leader's delivery engine. */
  deliverySubscribersMax: 65_536,
  /** Delivery records (in flight, awaiting redelivery, dead-letter proposed) on one leader. */
  deliveryRecordsMax: 1_048_576,

  // --- persistence stores ------------------------------------------------------------------
  /** Publisher sequences one publisher's dedup window spans (a power of two). */
  dedupWindowSequencesMax: 4096,
  /** Publishers one store remembers for dedup; past this the least recently active is forgotten. */
  dedupPublishersMax: 65_536,
  /** A publisher silent this long (log time) is forgotten, like NATS's 2-minute window. */
  dedupPublisherIdleMs: 120_000,
  /** Items in one publish command. */
  publishItemsPerCommandMax: 4096,
  /** Sequences in one ack or dead-letter command. */
  sequencesPerCommandMax: 65_536,
  /** Characters in one last-value or map key. */
  mapKeyLengthMax: 1024,
  /** Characters in a store, durable, template or publisher name inside a command. */
  commandNameLengthMax: 256,
  /** Dynamic durables of one store when the store sets no dynamicDurablesMax. */
  dynamicDurablesPerStoreMax: 10_000,
  /** Names listed in a rejection's detail (the stores, durables or templates that exist). */
  rejectionNamesListedMax: 16,

  // --- bus (non-persistent messaging inside one server) ------------------------------------
  /** Subscriptions one client connection holds at once. */
  busSubscriptionsPerConnectionMax: 65_536,
  /** Subscriptions in one server's interest table, over all its connections. */
  busSubscriptionsMax: 1_048_576,
  /** Publish subjects whose match result the interest table caches; the least recently used goes. */
  busMatchCacheEntriesMax: 4096,
  /** Characters in one publish subject (subscription patterns use subjectPatternLengthMax). */
  busSubjectLengthMax: 1024,
  /** Characters in one queue group name. */
  busQueueGroupLengthMax: 256,
} as const;

export type Limits = typeof limits;
