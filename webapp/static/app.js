// Behaviour that used to sit in on… attributes: the Content-Security-Policy allows no inline handlers.
document.addEventListener('submit', function (e) {
  var message = e.target.getAttribute('data-confirm');
  if (message && !window.confirm(message)) { e.preventDefault(); }
});
document.addEventListener('change', function (e) {
  if (!e.target.matches('select[data-scope-pick]')) { return; }
  var v = e.target.value.split(':');
  e.target.form.scope.value = v[0];
  e.target.form.scope_id.value = v[1] || '';
});
document.addEventListener('change', function (e) {
  if (e.target.matches('select[data-submit-on-change]')) { e.target.form.submit(); }
});
