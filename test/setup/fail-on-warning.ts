// A process warning (NODE_TLS_REJECT_UNAUTHORIZED=0, a deprecated API, a leaked listener)
// is a defect the suite should notice, not noise to scroll past.
process.on('warning', (warning) => {
  throw warning;
});
